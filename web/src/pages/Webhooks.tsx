import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";

import { api, type Delivery, type Webhook } from "../api";
import { Field } from "../components/Field";
import { SecretOnce } from "../components/SecretOnce";
import { AdminPage, ListOf } from "../components/States";
import { Table } from "../components/Table";
import { useTitle } from "../components/Title";
import { useI18n } from "../i18n";
import type { MessageKey } from "../i18n/en";
import { describe, fieldErrors } from "../problems";

/** The event types an endpoint may subscribe to. */
const TYPES = [
  "vehicle.created",
  "vehicle.updated",
  "vehicle.moved",
  "vehicle.deleted",
  "garage.created",
  "garage.updated",
  "garage.deleted",
  "key.created",
  "key.revoked",
];

/** `/webhooks`: an administrator registers endpoints and watches their deliveries. */
export function Webhooks() {
  const { t } = useI18n();
  useTitle(t("webhooks.title"));
  return (
    <AdminPage id="webhooks-title" title={t("webhooks.title")} forbidden={t("webhooks.forbidden")}>
      <WebhooksBody />
    </AdminPage>
  );
}

function WebhooksBody() {
  const { t } = useI18n();
  const [secret, setSecret] = useState<{ url: string; secret: string } | null>(null);
  const hooks = useQuery({ queryKey: ["webhooks"], queryFn: api.listWebhooks });
  return (
    <>
      <p>{t("webhooks.help")}</p>
      {secret ? (
        <SecretOnce
          title={t("webhooks.secret.title", { url: secret.url })}
          note={t("webhooks.secret.once")}
          secret={secret.secret}
          onDone={() => setSecret(null)}
        />
      ) : (
        <NewWebhook onCreated={setSecret} />
      )}
      <ListOf query={hooks} empty={t("webhooks.none")}>
        {(items) => items.map((hook) => <Endpoint key={hook.id} hook={hook} onSecret={setSecret} />)}
      </ListOf>
    </>
  );
}

function NewWebhook({ onCreated }: { onCreated: (s: { url: string; secret: string }) => void }) {
  const { t } = useI18n();
  const queryClient = useQueryClient();
  const [url, setUrl] = useState("");
  const [events, setEvents] = useState<string[]>([]);
  const [description, setDescription] = useState("");
  const create = useMutation({
    mutationFn: () =>
      api.createWebhook({ url: url.trim(), events: events.length ? events : ["*"], description }),
    onSuccess: async (created) => {
      setUrl("");
      setEvents([]);
      setDescription("");
      onCreated({ url: created.url, secret: created.secret });
      await queryClient.invalidateQueries({ queryKey: ["webhooks"] });
    },
  });
  const errors = fieldErrors(create.error, t);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (url.trim()) create.mutate();
  };
  return (
    <form className="panel" onSubmit={submit} noValidate>
      <h2>{t("webhooks.new.title")}</h2>
      <Field
        label={t("webhooks.new.url")}
        type="url"
        value={url}
        placeholder="https://hooks.example.com/garage"
        error={errors.url}
        onChange={(e) => setUrl(e.target.value)}
      />
      <div className="field">
        <label htmlFor="hook-events">{t("webhooks.new.events")}</label>
        <select
          id="hook-events"
          multiple
          size={5}
          value={events}
          onChange={(e) => setEvents(Array.from(e.target.selectedOptions, (o) => o.value))}
        >
          {TYPES.map((type) => (
            <option key={type} value={type}>
              {type}
            </option>
          ))}
        </select>
        {errors.events && <p className="field-error">{errors.events}</p>}
      </div>
      <Field
        label={t("webhooks.new.description")}
        value={description}
        maxLength={500}
        error={errors.description}
        onChange={(e) => setDescription(e.target.value)}
      />
      {create.isError && !Object.keys(errors).length && (
        <p className="error" role="alert">
          {describe(create.error, t)}
        </p>
      )}
      <div className="actions">
        <button type="submit" disabled={create.isPending || !url.trim()}>
          {t("webhooks.new.create")}
        </button>
      </div>
    </form>
  );
}

function Endpoint({
  hook,
  onSecret,
}: {
  hook: Webhook;
  onSecret: (s: { url: string; secret: string }) => void;
}) {
  const { t } = useI18n();
  const queryClient = useQueryClient();
  const [open, setOpen] = useState(false);
  const refresh = () => queryClient.invalidateQueries({ queryKey: ["webhooks"] });
  const toggle = useMutation({
    mutationFn: () => api.updateWebhook(hook.id, { enabled: !hook.enabled }),
    onSuccess: refresh,
  });
  const test = useMutation({
    mutationFn: () => api.testWebhook(hook.id),
    onSuccess: () => {
      setOpen(true);
      return queryClient.invalidateQueries({ queryKey: ["deliveries", hook.id] });
    },
  });
  const rotate = useMutation({
    mutationFn: () => api.rotateWebhookSecret(hook.id),
    onSuccess: (rotated) => onSecret({ url: rotated.url, secret: rotated.secret }),
  });
  const remove = useMutation({ mutationFn: () => api.deleteWebhook(hook.id), onSuccess: refresh });
  const failed = [toggle, test, rotate, remove].find((m) => m.isError)?.error;
  return (
    <article className="panel webhook" aria-label={hook.url}>
      <h2 className="plate">{hook.url}</h2>
      <p>
        {hook.events.join(", ")}
        {hook.description && ` — ${hook.description}`}
      </p>
      <p className={hook.enabled ? "notice" : "error"}>
        {hook.enabled
          ? t("webhooks.enabled")
          : t("webhooks.disabled", { reason: hook.disabled_reason ?? t("webhooks.byHand") })}
      </p>
      {failed && (
        <p className="error" role="alert">
          {describe(failed, t)}
        </p>
      )}
      <div className="actions">
        <button
          type="button"
          className="secondary"
          onClick={() => toggle.mutate()}
          disabled={toggle.isPending}
        >
          {hook.enabled ? t("webhooks.disable") : t("webhooks.enable")}
        </button>
        <button type="button" className="secondary" onClick={() => test.mutate()} disabled={test.isPending}>
          {t("webhooks.test")}
        </button>
        <button
          type="button"
          className="secondary"
          onClick={() => rotate.mutate()}
          disabled={rotate.isPending}
        >
          {t("webhooks.rotate")}
        </button>
        <button type="button" className="secondary" onClick={() => setOpen(!open)} aria-expanded={open}>
          {t("webhooks.deliveries")}
        </button>
        <button
          type="button"
          className="link danger"
          onClick={() => {
            if (window.confirm(t("webhooks.delete.confirm", { url: hook.url }))) remove.mutate();
          }}
        >
          {t("webhooks.delete")}
        </button>
      </div>
      {open && <Deliveries hook={hook.id} />}
    </article>
  );
}

function Deliveries({ hook }: { hook: number }) {
  const { t, formatDate } = useI18n();
  const queryClient = useQueryClient();
  const deliveries = useQuery({
    queryKey: ["deliveries", hook],
    queryFn: () => api.webhookDeliveries(hook),
    // Pending deliveries change as they are sent.
    refetchInterval: 2_000,
  });
  const retry = useMutation({
    mutationFn: (delivery: Delivery) => api.retryDelivery(hook, delivery.id),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ["deliveries", hook] }),
  });
  return (
    <ListOf query={deliveries} empty={t("webhooks.deliveries.none")}>
      {(items) => (
        <Table
          rows={items}
          rowKey={(d) => d.id}
          rowProps={(d) => ({ "data-state": d.state })}
          columns={[
            { label: t("webhooks.col.event"), cell: (d) => d.event_type },
            { label: t("webhooks.col.state"), cell: (d) => t(`webhooks.state.${d.state}` as MessageKey) },
            { label: t("webhooks.col.attempts"), cell: (d) => d.attempts },
            {
              label: t("webhooks.col.status"),
              cell: (d) => (
                <>
                  {d.status_code ?? ""}
                  {d.latency_ms != null && ` (${d.latency_ms} ms)`}
                  {d.error && <span className="field-error"> {d.error}</span>}
                </>
              ),
            },
            {
              label: t("webhooks.col.next"),
              cell: (d) => (d.next_attempt_at ? formatDate(d.next_attempt_at) : ""),
            },
            {
              label: t("vehicle.col.actions"),
              actions: true,
              cell: (d) =>
                d.state !== "delivered" && (
                  <button
                    type="button"
                    className="link"
                    onClick={() => retry.mutate(d)}
                    disabled={retry.isPending}
                  >
                    {t("webhooks.retry")}
                  </button>
                ),
            },
          ]}
        />
      )}
    </ListOf>
  );
}
