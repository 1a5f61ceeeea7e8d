import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";

import { api, newIdempotencyKey, type Plan, type PlanInput, type Reading } from "../api";
import { useI18n } from "../i18n";
import { Field } from "./Field";
import { dueText, formatDay, kindLabel, StatusBadge } from "./Reminders";
import { ErrorState, Loading } from "./States";
import { Table } from "./Table";

/** Today where the user is (the API takes up to a day ahead of the fleet's). */
export const today = () => {
  const now = new Date();
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
};

/** A number typed in a field, or undefined when it is empty. */
const numberOr = (text: string) => (text.trim() === "" ? undefined : Number(text));

/** A vehicle's care: its odometer and readings, its plans and the work done on them. */
export function CareSection({ vehicleId }: { vehicleId: number }) {
  const { t } = useI18n();
  const care = useQuery({ queryKey: ["care", vehicleId], queryFn: () => api.care(vehicleId) });
  return (
    <section id="care" aria-labelledby="care-title" className="care">
      <h2 id="care-title">{t("care.title")}</h2>
      {care.isPending ? (
        <Loading />
      ) : care.isError ? (
        <ErrorState error={care.error} onRetry={() => care.refetch()} />
      ) : (
        <>
          <Odometer vehicleId={vehicleId} km={care.data.odometer_km ?? null} />
          <Plans vehicleId={vehicleId} plans={care.data.plans} />
          <NewPlan vehicleId={vehicleId} taken={care.data.plans.map((p) => p.kind)} />
          <Records records={care.data.records} />
        </>
      )}
    </section>
  );
}

/**
 * What to read again once care changed: its care and readings, the
 * reminders. Not the vehicle: its form above may hold edits, which a new
 * copy would replace; saving them over a reading's new version goes
 * through (saveVehicle), since a reading changes nothing the form shows.
 */
function useCareChanged(vehicleId: number) {
  const queryClient = useQueryClient();
  return () => {
    for (const key of [
      ["care", vehicleId],
      ["readings", vehicleId],
      ["reminders"],
      ["history"],
      ["activity"],
    ])
      queryClient.invalidateQueries({ queryKey: key });
  };
}

function Odometer({ vehicleId, km }: { vehicleId: number; km: number | null }) {
  const { t } = useI18n();
  const changed = useCareChanged(vehicleId);
  const readings = useQuery({
    queryKey: ["readings", vehicleId],
    queryFn: () => api.readings(vehicleId, { limit: 200 }),
  });
  const [value, setValue] = useState("");
  const [readOn, setReadOn] = useState(today());
  const [key, setKey] = useState(newIdempotencyKey);
  const record = useMutation({
    mutationFn: () => api.recordReading(vehicleId, { km: Number(value), read_on: readOn }, key),
    onSuccess: () => {
      setValue("");
      setKey(newIdempotencyKey());
      changed();
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (value.trim() !== "") record.mutate();
  };
  return (
    <div className="panel">
      <h3>{t("care.odometer")}</h3>
      <p className="odometer" data-testid="odometer">
        {km != null ? t("care.km", { km }) : t("care.odometer.none")}
      </p>
      {readings.data && new Set(readings.data.items.map((r) => r.read_on)).size > 1 && (
        <ReadingChart readings={readings.data.items} />
      )}
      <form onSubmit={submit} className="inline-form" noValidate aria-label={t("care.reading.add")}>
        <Field
          label={t("care.reading.km")}
          type="number"
          inputMode="numeric"
          min={0}
          value={value}
          onChange={(e) => {
            setValue(e.target.value);
            record.reset();
          }}
          required
        />
        <Field
          label={t("care.reading.on")}
          type="date"
          max={today()}
          value={readOn}
          onChange={(e) => setReadOn(e.target.value)}
        />
        <button type="submit" disabled={record.isPending}>
          {t("care.reading.add")}
        </button>
      </form>
      {record.isError && <ErrorState error={record.error} />}
    </div>
  );
}

/** The readings over time as a line, with the same figures in a table for those who do not see it. */
function ReadingChart({ readings }: { readings: readonly Reading[] }) {
  const { t, language } = useI18n();
  const points = [...readings]
    .sort((a, b) => a.read_on.localeCompare(b.read_on) || a.id - b.id)
    .map((p) => ({ ...p, day: Date.parse(p.read_on) }));
  const [earliest, latest] = [points[0], points.at(-1)];
  if (!earliest || !latest) return null;
  const [first, last] = [earliest.day, latest.day];
  // From the lowest reading to the highest, so a few hundred km show.
  const low = Math.min(...points.map((p) => p.km));
  const span = Math.max(1, Math.max(...points.map((p) => p.km)) - low);
  const [w, h] = [300, 80];
  const x = (day: number) => (last === first ? w / 2 : ((day - first) / (last - first)) * w);
  const y = (km: number) => h - ((km - low) / span) * h;
  const line = points.map((p) => `${x(p.day).toFixed(1)},${y(p.km).toFixed(1)}`).join(" ");
  return (
    <figure className="reading-chart">
      <svg viewBox={`-4 -4 ${w + 8} ${h + 8}`} role="img" aria-labelledby="reading-chart-caption">
        <polyline points={line} fill="none" stroke="currentColor" strokeWidth="2" />
        {points.map((p) => (
          <circle key={p.id} cx={x(p.day)} cy={y(p.km)} r="3" fill="currentColor" />
        ))}
      </svg>
      <figcaption id="reading-chart-caption">
        {t("care.chart", {
          from: formatDay(earliest.read_on, language),
          to: formatDay(latest.read_on, language),
        })}
      </figcaption>
      <details>
        <summary>{t("care.chart.table")}</summary>
        <Table
          rows={[...points].reverse()}
          rowKey={(r) => r.id}
          columns={[
            { label: t("care.reading.on"), cell: (r) => formatDay(r.read_on, language) },
            { label: t("care.reading.km"), num: true, cell: (r) => t("care.km", { km: r.km }) },
            { label: t("care.reading.correction"), cell: (r) => (r.correction ? t("care.yes") : "") },
          ]}
        />
      </details>
    </figure>
  );
}

function Plans({ vehicleId, plans }: { vehicleId: number; plans: readonly Plan[] }) {
  const { t, language } = useI18n();
  const changed = useCareChanged(vehicleId);
  const [doing, setDoing] = useState<string | null>(null);
  const remove = useMutation({
    mutationFn: (kind: string) => api.deletePlan(vehicleId, kind),
    onSuccess: changed,
  });
  if (plans.length === 0) return <p className="state state-empty">{t("care.plans.none")}</p>;
  return (
    <div className="panel">
      <h3>{t("care.plans")}</h3>
      <Table
        rows={plans}
        rowKey={(p) => p.kind}
        rowProps={(p) => ({ "data-kind": p.kind })}
        columns={[
          { label: t("care.col.kind"), cell: (p) => kindLabel(p.kind, t) },
          {
            label: t("care.col.schedule"),
            cell: (p) =>
              [
                p.every_months ? t("care.every.months", { count: p.every_months }) : null,
                p.every_km ? t("care.every.km", { km: p.every_km }) : null,
              ]
                .filter(Boolean)
                .join(" · ") || t("care.once"),
          },
          {
            label: t("care.col.due"),
            cell: (p) => dueText({ on: p.next_due_on, km: p.next_due_km }, t, language),
          },
          { label: t("care.col.status"), cell: (p) => <StatusBadge status={p.status} /> },
          {
            label: t("care.col.lastDone"),
            cell: (p) => (p.last_done_on ? formatDay(p.last_done_on, language) : "—"),
          },
          {
            label: t("vehicle.col.actions"),
            actions: true,
            cell: (p) => (
              <>
                <button type="button" onClick={() => setDoing(doing === p.kind ? null : p.kind)}>
                  {t("care.done.open", { kind: kindLabel(p.kind, t) })}
                </button>{" "}
                <button
                  type="button"
                  className="secondary"
                  disabled={remove.isPending}
                  onClick={() => {
                    if (window.confirm(t("care.plan.delete.confirm", { kind: kindLabel(p.kind, t) })))
                      remove.mutate(p.kind);
                  }}
                >
                  {t("care.plan.delete")}
                </button>
              </>
            ),
          },
        ]}
      />
      {remove.isError && <ErrorState error={remove.error} />}
      {doing && <MarkDone key={doing} vehicleId={vehicleId} kind={doing} onClose={() => setDoing(null)} />}
    </div>
  );
}

function MarkDone({ vehicleId, kind, onClose }: { vehicleId: number; kind: string; onClose: () => void }) {
  const { t } = useI18n();
  const changed = useCareChanged(vehicleId);
  const [doneOn, setDoneOn] = useState(today());
  const [km, setKm] = useState("");
  const [note, setNote] = useState("");
  const [nextDue, setNextDue] = useState("");
  const [key] = useState(newIdempotencyKey);
  const done = useMutation({
    mutationFn: () =>
      api.markDone(
        vehicleId,
        kind,
        {
          done_on: doneOn,
          km: numberOr(km),
          note: note.trim() || undefined,
          next_due_on: nextDue || undefined,
        },
        key,
      ),
    onSuccess: () => {
      changed();
      onClose();
    },
  });
  return (
    <form
      className="form panel"
      aria-label={t("care.done.title", { kind: kindLabel(kind, t) })}
      onSubmit={(e) => {
        e.preventDefault();
        done.mutate();
      }}
    >
      <h4>{t("care.done.title", { kind: kindLabel(kind, t) })}</h4>
      <Field
        label={t("care.done.on")}
        type="date"
        max={today()}
        value={doneOn}
        onChange={(e) => setDoneOn(e.target.value)}
      />
      <Field
        label={t("care.done.km")}
        hint={t("care.done.km.hint")}
        type="number"
        inputMode="numeric"
        min={0}
        value={km}
        onChange={(e) => setKm(e.target.value)}
      />
      <Field
        label={t("care.done.note")}
        maxLength={500}
        value={note}
        onChange={(e) => setNote(e.target.value)}
      />
      <Field
        label={t("care.done.next")}
        hint={t("care.done.next.hint")}
        type="date"
        value={nextDue}
        onChange={(e) => setNextDue(e.target.value)}
      />
      {done.isError && <ErrorState error={done.error} />}
      <div className="actions">
        <button type="submit" disabled={done.isPending}>
          {t("care.done.submit")}
        </button>
        <button type="button" className="secondary" onClick={onClose}>
          {t("care.cancel")}
        </button>
      </div>
    </form>
  );
}

const KINDS = ["service", "inspection", "insurance"] as const;

function NewPlan({ vehicleId, taken }: { vehicleId: number; taken: readonly string[] }) {
  const { t } = useI18n();
  const changed = useCareChanged(vehicleId);
  const [kind, setKind] = useState<string>(KINDS.find((k) => !taken.includes(k)) ?? "other");
  const [custom, setCustom] = useState("");
  const [months, setMonths] = useState("");
  const [kms, setKms] = useState("");
  const [dueOn, setDueOn] = useState("");
  const [lastDone, setLastDone] = useState("");
  const [lastKm, setLastKm] = useState("");
  const [preset, setPreset] = useState(false);
  const [open, setOpen] = useState(false);
  const name = kind === "other" ? custom.trim().toLowerCase() : kind;
  const save = useMutation({
    mutationFn: () => {
      const input: PlanInput = {
        every_months: numberOr(months),
        every_km: numberOr(kms),
        due_on: dueOn || undefined,
        last_done_on: lastDone || undefined,
        last_done_km: lastDone ? numberOr(lastKm) : undefined,
        preset: kind === "inspection" && preset ? "controle_technique" : undefined,
      };
      return api.putPlan(vehicleId, name, input);
    },
    onSuccess: () => {
      setMonths("");
      setKms("");
      setDueOn("");
      setLastDone("");
      setLastKm("");
      setPreset(false);
      changed();
    },
  });
  return (
    <div className="panel">
      <button type="button" className="secondary" aria-expanded={open} onClick={() => setOpen(!open)}>
        {t("care.plan.new")}
      </button>
      {open && (
        <form
          className="form"
          noValidate
          aria-label={t("care.plan.new")}
          onSubmit={(e) => {
            e.preventDefault();
            save.mutate();
          }}
        >
          <div className="field">
            <label>
              {t("care.col.kind")}
              <select value={kind} onChange={(e) => setKind(e.target.value)}>
                {KINDS.map((k) => (
                  <option key={k} value={k}>
                    {kindLabel(k, t)}
                  </option>
                ))}
                <option value="other">{t("care.kind.other")}</option>
              </select>
            </label>
          </div>
          {kind === "other" && (
            <Field
              label={t("care.kind.name")}
              hint={t("care.kind.name.hint")}
              value={custom}
              maxLength={40}
              onChange={(e) => setCustom(e.target.value)}
            />
          )}
          {kind === "inspection" && (
            <div className="field check">
              <label>
                <input type="checkbox" checked={preset} onChange={(e) => setPreset(e.target.checked)} />{" "}
                {t("care.preset.ct")}
              </label>
            </div>
          )}
          <Field
            label={t("care.every.months.label")}
            type="number"
            inputMode="numeric"
            min={1}
            max={240}
            value={months}
            onChange={(e) => setMonths(e.target.value)}
          />
          <Field
            label={t("care.every.km.label")}
            type="number"
            inputMode="numeric"
            min={1}
            value={kms}
            onChange={(e) => setKms(e.target.value)}
          />
          <Field
            label={t("care.due.on")}
            hint={t("care.due.on.hint")}
            type="date"
            value={dueOn}
            onChange={(e) => setDueOn(e.target.value)}
          />
          <Field
            label={t("care.lastDone")}
            hint={t("care.lastDone.hint")}
            type="date"
            max={today()}
            value={lastDone}
            onChange={(e) => setLastDone(e.target.value)}
          />
          {lastDone && (
            <Field
              label={t("care.lastDone.km")}
              hint={t("care.lastDone.km.hint")}
              type="number"
              inputMode="numeric"
              min={0}
              value={lastKm}
              onChange={(e) => setLastKm(e.target.value)}
            />
          )}
          {save.isError && <ErrorState error={save.error} />}
          <div className="actions">
            <button type="submit" disabled={save.isPending || name === ""}>
              {taken.includes(name) ? t("care.plan.replace") : t("care.plan.save")}
            </button>
          </div>
        </form>
      )}
    </div>
  );
}

function Records({
  records,
}: {
  records: readonly {
    id: number;
    kind: string;
    done_on: string;
    km?: number | null;
    note?: string | null;
    recorded_by: string;
  }[];
}) {
  const { t, language } = useI18n();
  if (records.length === 0) return null;
  return (
    <div className="panel">
      <h3>{t("care.records")}</h3>
      <Table
        rows={records}
        rowKey={(r) => r.id}
        columns={[
          { label: t("care.done.on"), cell: (r) => formatDay(r.done_on, language) },
          { label: t("care.col.kind"), cell: (r) => kindLabel(r.kind, t) },
          {
            label: t("care.done.km"),
            num: true,
            cell: (r) => (r.km != null ? t("care.km", { km: r.km }) : "—"),
          },
          { label: t("care.done.note"), cell: (r) => r.note ?? "" },
          { label: t("care.by"), cell: (r) => r.recorded_by },
        ]}
      />
    </div>
  );
}
