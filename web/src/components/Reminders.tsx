import { Link } from "react-router";

import type { CareStatus, Reminder } from "../api";
import { useI18n, type Translate } from "../i18n";
import { displayPlate } from "../validation";
import { Table } from "./Table";

/** A date without a time (`2027-03-01`), shown in the reader's language, never shifted by a time zone. */
export function formatDay(day: string, language: string): string {
  const [y = 1970, m = 1, d = 1] = day.split("-").map(Number);
  return new Intl.DateTimeFormat(language === "fr" ? "fr-FR" : "en-GB", {
    dateStyle: "medium",
    timeZone: "UTC",
  }).format(new Date(Date.UTC(y, m - 1, d)));
}

/** A plan's kind in words: the usual three translated, the fleet's own as written. */
export function kindLabel(kind: string, t: Translate): string {
  switch (kind) {
    case "service":
      return t("care.kind.service");
    case "inspection":
      return t("care.kind.inspection");
    case "insurance":
      return t("care.kind.insurance");
    default:
      return kind;
  }
}

/** How urgent a plan is, as a badge that reads the same without colour. */
export function StatusBadge({ status }: { status: CareStatus }) {
  const { t } = useI18n();
  return <span className={`badge badge-${status}`}>{t(`care.status.${status}`)}</span>;
}

/** When a plan is due: its date, its distance, or both. */
export function dueText(due: { on?: string | null; km?: number | null }, t: Translate, language: string) {
  const parts = [];
  if (due.on) parts.push(formatDay(due.on, language));
  if (due.km != null) parts.push(t("care.km", { km: due.km }));
  return parts.join(" · ") || "—";
}

/** Plans due soon or overdue, each with its vehicle. */
export function ReminderTable({ reminders }: { reminders: readonly Reminder[] }) {
  const { t, language } = useI18n();
  return (
    <Table
      rows={reminders}
      rowKey={(r) => `${r.vehicle_id}-${r.kind}`}
      rowProps={(r) => ({ "data-status": r.status })}
      columns={[
        {
          label: t("vehicle.col.plate"),
          cellClass: "plate",
          cell: (r) => (
            <Link to={`/vehicles/${r.vehicle_id}/edit#care`}>{displayPlate(r.license_plate)}</Link>
          ),
        },
        { label: t("care.col.kind"), cell: (r) => kindLabel(r.kind, t) },
        { label: t("care.col.due"), cell: (r) => dueText({ on: r.due_on, km: r.due_km }, t, language) },
        {
          label: t("care.col.odometer"),
          num: true,
          cell: (r) => (r.odometer_km != null ? t("care.km", { km: r.odometer_km }) : "—"),
        },
        { label: t("care.col.status"), cell: (r) => <StatusBadge status={r.status} /> },
        {
          label: t("vehicle.col.garage"),
          cell: (r) => <Link to={`/garages/${r.garage_id}`}>{r.garage_name}</Link>,
        },
      ]}
    />
  );
}
