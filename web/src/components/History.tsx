import { useInfiniteQuery, useQueries } from "@tanstack/react-query";

import { api, type HistoryEvent, type Page } from "../api";
import { useI18n } from "../i18n";
import type { MessageKey } from "../i18n/en";
import { ErrorState, Loading } from "./States";

/** Whose history to show. */
export type HistoryOf = { vehicle: number } | { garage: number };

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
  const { t, formatDate } = useI18n();
  const key = "vehicle" in of ? ["history", "vehicle", of.vehicle] : ["history", "garage", of.garage];
  const history = useInfiniteQuery({
    queryKey: key,
    queryFn: ({ pageParam }: { pageParam: string | null }): Promise<Page<HistoryEvent>> =>
      "vehicle" in of
        ? api.vehicleHistory(of.vehicle, { cursor: pageParam })
        : api.garageHistory(of.garage, { cursor: pageParam }),
    initialPageParam: null as string | null,
    getNextPageParam: (page) => page.next_cursor,
  });
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
    return name;
  };
  const show = (field: string, value: unknown): string => {
    if (value === null || value === undefined) return t("history.none");
    return field === "garage_id" ? garageName(value) : String(value);
  };

  const title = (event: HistoryEvent): string => {
    const changes = event.changes as Record<string, unknown>;
    const move = changes.garage_id;
    switch (event.type) {
      case "vehicle.created":
        return t("history.vehicle.created", { garage: garageName(event.garage_id) });
      case "vehicle.moved": {
        const { from, to } = isChange(move) ? move : { from: event.from_garage_id, to: event.garage_id };
        return "vehicle" in of
          ? t("history.vehicle.moved", { from: garageName(from), to: garageName(to) })
          : t("history.vehicle.movedPlate", {
              plate: `#${event.vehicle_id}`,
              from: garageName(from),
              to: garageName(to),
            });
      }
      case "vehicle.updated":
      case "vehicle.deleted":
      case "garage.created":
      case "garage.updated":
      case "garage.deleted":
        return t(`history.${event.type}` as MessageKey);
      default:
        return event.type;
    }
  };

  // Names first: a timeline of bare ids that then changes under the eye helps nobody.
  if (history.isPending || garages.some((garage) => garage.isPending)) return <Loading />;
  if (history.isError) return <ErrorState error={history.error} onRetry={() => history.refetch()} />;
  return (
    <section aria-labelledby="history-title" className="history">
      <h2 id="history-title">{t("history.title")}</h2>
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
                  <strong>{title(event)}</strong> {t("history.by", { actor: actor(event) })},{" "}
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
    </section>
  );
}
