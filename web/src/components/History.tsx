import {
  type InfiniteData,
  useInfiniteQuery,
  useQueries,
  type UseInfiniteQueryResult,
} from "@tanstack/react-query";

import { api, type HistoryEvent, type Page } from "../api";
import { useI18n } from "../i18n";
import type { MessageKey } from "../i18n/en";
import { kindLabel } from "./Reminders";
import { ErrorState, Loading } from "./States";

/** Whose history to show. */
export type HistoryOf = { vehicle: number } | { garage: number };

/** From where the events are seen: one vehicle's page names it in no line. */
type Perspective = "vehicle" | "garage" | "fleet";

/** The label of each field an event may name. */
const FIELDS: Record<string, MessageKey> = {
  garage_id: "vehicle.col.garage",
  brand: "vehicle.col.brand",
  model: "vehicle.col.model",
  year: "vehicle.col.year",
  license_plate: "vehicle.col.plate",
  vin: "vehicle.col.vin",
  name: "garages.col.name",
  address: "garages.col.address",
  capacity: "garage.field.capacity",
};

type Change = { from: unknown; to: unknown };

function isChange(value: unknown): value is Change {
  return typeof value === "object" && value !== null && "from" in value && "to" in value;
}

/** A history as a timeline, newest first: what changed, who changed it, when. */
export function History({ of }: { of: HistoryOf }) {
  const key = "vehicle" in of ? ["history", "vehicle", of.vehicle] : ["history", "garage", of.garage];
  const history = useInfiniteQuery({
    queryKey: key,
    queryFn: ({ pageParam }: { pageParam: string | null }): Promise<Page<HistoryEvent>> =>
      "vehicle" in of
        ? api.vehicleHistory(of.vehicle, { cursor: pageParam ?? undefined })
        : api.garageHistory(of.garage, { cursor: pageParam ?? undefined }),
    initialPageParam: null as string | null,
    getNextPageParam: (page) => page.next_cursor,
  });
  const { t } = useI18n();
  return (
    <section aria-labelledby="history-title" className="history">
      <h2 id="history-title">{t("history.title")}</h2>
      <Timeline history={history} perspective={"vehicle" in of ? "vehicle" : "garage"} />
    </section>
  );
}

/** Pages of events, newest first, as a query that loads more on demand. */
export type EventPages = UseInfiniteQueryResult<InfiniteData<Page<HistoryEvent>>>;

/** Events as a timeline: a line each, the fields a change touched below it. */
export function Timeline({ history, perspective }: { history: EventPages; perspective: Perspective }) {
  const { t, formatDate } = useI18n();
  const events = history.data?.pages.flatMap((page) => page.items) ?? [];
  // The garages the events name, to show their names.
  const garageIds = [
    ...new Set(
      events
        .flatMap((e) => [e.garage_id, e.from_garage_id])
        .filter((id): id is number => typeof id === "number"),
    ),
  ];
  const garages = useQueries({
    queries: garageIds.map((id) => ({
      queryKey: ["garage", id],
      queryFn: () => api.getGarage(id),
      retry: false,
    })),
  });
  const garageName = (id: unknown): string => {
    const found = garages[garageIds.indexOf(id as number)]?.data;
    return found?.name ?? t("history.garage", { id: String(id) });
  };
  const actor = (event: HistoryEvent): string => {
    const name = event.actor.name;
    if (event.actor.key_id == null && name === "anonymous") return t("history.anonymous");
    if (event.actor.key_id == null && name === "cli") return t("history.cli");
    if (event.actor.key_id == null && name === "scheduler") return t("history.scheduler");
    return name;
  };
  const show = (field: string, value: unknown): string => {
    if (value === null || value === undefined) return t("history.none");
    return field === "garage_id" ? garageName(value) : String(value);
  };

  /** Which vehicle a line is about, where the page does not say it. */
  const subject = (event: HistoryEvent): string => {
    if (perspective === "vehicle" || event.vehicle_id == null) return "";
    const plate = (event.changes as Record<string, unknown>).license_plate;
    const name = typeof plate === "string" ? plate : `#${event.vehicle_id}`;
    return t("history.vehicle.subject", { vehicle: name }) + " ";
  };

  const title = (event: HistoryEvent): string => {
    const changes = event.changes as Record<string, unknown>;
    const move = changes.garage_id;
    switch (event.type) {
      case "vehicle.created":
        return t("history.vehicle.created", { garage: garageName(event.garage_id) });
      case "vehicle.moved": {
        const { from, to } = isChange(move) ? move : { from: event.from_garage_id, to: event.garage_id };
        return t("history.vehicle.moved", { from: garageName(from), to: garageName(to) });
      }
      case "vehicle.updated":
      case "vehicle.deleted":
      case "garage.created":
      case "garage.updated":
      case "garage.deleted":
        return t(`history.${event.type}` as MessageKey);
      case "key.created":
      case "key.revoked":
        return t(`history.${event.type}` as MessageKey, { name: String(changes.name ?? "") });
      case "odometer.recorded":
        return t(changes.correction === true ? "history.odometer.corrected" : "history.odometer.recorded", {
          km: Number(changes.km ?? 0),
        });
      case "care.plan_set":
      case "care.plan_deleted":
      case "care.done":
      case "care.due_soon":
      case "care.overdue":
        return t(`history.${event.type}` as MessageKey, { kind: kindLabel(String(changes.kind ?? ""), t) });
      default:
        return event.type;
    }
  };

  // Names first: a timeline of bare ids that then changes under the eye helps nobody.
  if (history.isPending || garages.some((garage) => garage.isPending)) return <Loading />;
  if (history.isError) return <ErrorState error={history.error} onRetry={() => history.refetch()} />;
  return (
    <>
      {events.length === 0 ? (
        <p>{t("history.empty")}</p>
      ) : (
        <ol className="timeline">
          {events.map((event) => {
            const changes = Object.entries(event.changes as Record<string, unknown>).filter(
              ([field, value]) => isChange(value) && field !== "garage_id",
            ) as [string, Change][];
            return (
              <li key={event.id} data-event-type={event.type}>
                <p>
                  <strong>
                    {subject(event)}
                    {title(event)}
                  </strong>{" "}
                  {t("history.by", { actor: actor(event) })},{" "}
                  <time dateTime={event.occurred_at}>{formatDate(event.occurred_at)}</time>
                </p>
                {changes.length > 0 && (
                  <ul className="changes">
                    {changes.map(([field, change]) => (
                      <li key={field}>
                        {FIELDS[field] ? t(FIELDS[field]) : field} {show(field, change.from)} →{" "}
                        {show(field, change.to)}
                      </li>
                    ))}
                  </ul>
                )}
              </li>
            );
          })}
        </ol>
      )}
      {history.hasNextPage && (
        <button type="button" onClick={() => history.fetchNextPage()} disabled={history.isFetchingNextPage}>
          {t("history.more")}
        </button>
      )}
    </>
  );
}
