import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useSearchParams } from "react-router";

import { api, datedName, feedUrl, saveFile, type CreatedCalendar } from "../api";
import { useMe } from "../access";
import { GaragePicker } from "../components/GaragePicker";
import { Pager } from "../components/Pager";
import { ReminderTable } from "../components/Reminders";
import { SecretOnce } from "../components/SecretOnce";
import { ErrorState, ListOf } from "../components/States";
import { Table } from "../components/Table";
import { useTitle } from "../components/Title";
import { useI18n } from "../i18n";

/** The plans due soon or overdue across the fleet; the URL holds the filters. */
export function Reminders() {
  const { t } = useI18n();
  useTitle(t("reminders.title"));
  const [params, setParams] = useSearchParams();
  const status = params.get("status") ?? "";
  const garage = params.get("garage") ?? "";
  const cursor = params.get("cursor") ?? undefined;
  const filters = { status: status || undefined, garage_id: garage ? Number(garage) : undefined };
  const reminders = useQuery({
    queryKey: ["reminders", status, garage, cursor],
    queryFn: () => api.reminders({ ...filters, cursor }),
  });
  const exported = useMutation({
    mutationFn: () => api.exportReminders(filters),
    onSuccess: (file) => saveFile(file, datedName("reminders", "csv")),
  });
  const choose = (name: string, value: string) => {
    const next = new URLSearchParams(params);
    next.delete("cursor");
    if (value) next.set(name, value);
    else next.delete(name);
    setParams(next, { replace: true });
  };
  return (
    <section aria-labelledby="reminders-title">
      <div className="heading">
        <h1 id="reminders-title">{t("reminders.title")}</h1>
        <button
          type="button"
          className="secondary"
          onClick={() => exported.mutate()}
          disabled={exported.isPending}
        >
          {t("reminders.export")}
        </button>
      </div>
      {exported.isError && <ErrorState error={exported.error} />}
      <div className="filters">
        <label>
          {t("care.col.status")}{" "}
          <select value={status} onChange={(e) => choose("status", e.target.value)}>
            <option value="">{t("reminders.all")}</option>
            <option value="overdue">{t("care.status.overdue")}</option>
            <option value="due_soon">{t("care.status.due_soon")}</option>
          </select>
        </label>{" "}
        <GaragePicker
          id="reminders-garage"
          label={t("vehicle.col.garage")}
          value={garage ? Number(garage) : null}
          onChange={(g) => choose("garage", String(g.id))}
        />
        {garage && (
          <button type="button" className="secondary" onClick={() => choose("garage", "")}>
            {t("reminders.allGarages")}
          </button>
        )}
      </div>
      <ListOf query={reminders} empty={t("reminders.none")}>
        {(items) => <ReminderTable reminders={items} />}
      </ListOf>
      <Pager nextCursor={reminders.data?.next_cursor ?? null} />
      <Calendars />
    </section>
  );
}

/** Calendar subscriptions: a read-only address per calendar application, revocable. */
function Calendars() {
  const { t, formatDate } = useI18n();
  const me = useMe();
  // A calendar lives as long as a named key: none for anonymous callers.
  const named = me.data?.key_id != null;
  const queryClient = useQueryClient();
  const calendars = useQuery({ queryKey: ["calendars"], queryFn: api.listCalendars });
  const [name, setName] = useState("");
  const [created, setCreated] = useState<CreatedCalendar | null>(null);
  const create = useMutation({
    mutationFn: () => api.createCalendar(name.trim()),
    onSuccess: (made) => {
      setCreated(made);
      setName("");
      queryClient.invalidateQueries({ queryKey: ["calendars"] });
    },
  });
  const revoke = useMutation({
    mutationFn: (id: number) => api.revokeCalendar(id),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ["calendars"] }),
  });
  return (
    <section aria-labelledby="calendars-title" className="panel">
      <h2 id="calendars-title">{t("calendar.title")}</h2>
      <p>{t("calendar.intro")}</p>
      {created && (
        <>
          <SecretOnce
            title={t("calendar.created", { name: created.name })}
            note={t("calendar.once")}
            secret={feedUrl(created.feed)}
            label={t("calendar.address")}
            onDone={() => setCreated(null)}
          />
          <p>
            <a href={feedUrl(created.feed).replace(/^https?:/, "webcal:")}>{t("calendar.subscribe")}</a>
          </p>
        </>
      )}
      {named ? (
        <form
          className="inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            if (name.trim()) create.mutate();
          }}
        >
          <label htmlFor="calendar-name">{t("calendar.name")}</label>
          <input id="calendar-name" value={name} maxLength={100} onChange={(e) => setName(e.target.value)} />
          <button type="submit" disabled={create.isPending || name.trim() === ""}>
            {t("calendar.create")}
          </button>
        </form>
      ) : (
        me.data && <p className="hint">{t("calendar.needsKey")}</p>
      )}
      {create.isError && <ErrorState error={create.error} />}
      <ListOf query={calendars} empty={t("calendar.none")}>
        {(items) => (
          <Table
            rows={items}
            rowKey={(c) => c.id}
            columns={[
              { label: t("calendar.name"), cell: (c) => c.name },
              { label: t("calendar.prefix"), cellClass: "plate", cell: (c) => `${c.prefix}…` },
              { label: t("calendar.createdAt"), cell: (c) => formatDate(c.created_at) },
              {
                label: t("vehicle.col.actions"),
                actions: true,
                cell: (c) => (
                  <button
                    type="button"
                    className="danger"
                    disabled={revoke.isPending}
                    onClick={() => {
                      if (window.confirm(t("calendar.revoke.confirm", { name: c.name }))) revoke.mutate(c.id);
                    }}
                  >
                    {t("calendar.revoke")}
                  </button>
                ),
              },
            ]}
          />
        )}
      </ListOf>
      {revoke.isError && <ErrorState error={revoke.error} />}
    </section>
  );
}
