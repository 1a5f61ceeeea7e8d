import { useInfiniteQuery } from "@tanstack/react-query";
import { useSearchParams } from "react-router";

import { api } from "../api";
import { GaragePicker } from "../components/GaragePicker";
import { Timeline } from "../components/History";
import { useTitle } from "../components/Title";
import { useI18n } from "../i18n";
import type { MessageKey } from "../i18n/en";

/** The choices of the "what" filter, each a list of event types. */
const TYPES: [MessageKey, string][] = [
  ["activity.type.vehicle.moved", "vehicle.moved"],
  ["activity.type.vehicle.created", "vehicle.created"],
  ["activity.type.vehicle.updated", "vehicle.updated"],
  ["activity.type.vehicle.deleted", "vehicle.deleted"],
  ["activity.type.garage", "garage.created,garage.updated,garage.deleted"],
  [
    "activity.type.care",
    "odometer.recorded,care.plan_set,care.plan_deleted,care.done,care.due_soon,care.overdue",
  ],
];

/** What happened lately across the fleet, newest first; the URL holds the filters. */
export function Activity() {
  const { t } = useI18n();
  useTitle(t("activity.title"));
  const [params, setParams] = useSearchParams();
  const type = params.get("type") ?? "";
  const garage = params.get("garage") ?? "";
  const history = useInfiniteQuery({
    queryKey: ["activity", type, garage],
    queryFn: ({ pageParam }: { pageParam: string | null }) =>
      api.activity({
        cursor: pageParam ?? undefined,
        type: type || undefined,
        garage_id: garage ? Number(garage) : undefined,
      }),
    initialPageParam: null as string | null,
    getNextPageParam: (page) => page.next_cursor,
  });
  const choose = (name: string, value: string) => {
    const next = new URLSearchParams(params);
    if (value) next.set(name, value);
    else next.delete(name);
    setParams(next, { replace: true });
  };
  return (
    <section aria-labelledby="activity-title" className="history">
      <h1 id="activity-title">{t("activity.title")}</h1>
      <div className="filters">
        <label>
          {t("activity.type")}{" "}
          <select value={type} onChange={(e) => choose("type", e.target.value)}>
            <option value="">{t("activity.all")}</option>
            {TYPES.map(([label, value]) => (
              <option key={value} value={value}>
                {t(label)}
              </option>
            ))}
          </select>
        </label>{" "}
        <GaragePicker
          id="activity-garage"
          label={t("activity.garage")}
          value={garage ? Number(garage) : null}
          onChange={(g) => choose("garage", String(g.id))}
          needs={0}
        />
        {garage && (
          <button type="button" className="link" onClick={() => choose("garage", "")}>
            {t("activity.allGarages")}
          </button>
        )}
      </div>
      <Timeline history={history} perspective="fleet" />
    </section>
  );
}
