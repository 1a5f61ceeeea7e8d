import { useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { Link } from "react-router";

import { api, type Stats } from "../api";
import { Bars } from "../components/Bars";
import { GaragePicker } from "../components/GaragePicker";
import { ReminderTable } from "../components/Reminders";
import { Timeline } from "../components/History";
import { ErrorState, ListOf, Loading } from "../components/States";
import { useTitle } from "../components/Title";
import { useI18n, type Translate } from "../i18n";

/** The home page: the fleet at a glance. */
export function Overview() {
  const { t } = useI18n();
  useTitle(t("overview.title"));
  const stats = useQuery({ queryKey: ["stats"], queryFn: api.stats });
  return (
    <section aria-labelledby="overview-title">
      <div className="heading">
        <h1 id="overview-title">{t("overview.title")}</h1>
      </div>
      {stats.isPending ? (
        <Loading />
      ) : stats.isError ? (
        <ErrorState error={stats.error} onRetry={() => stats.refetch()} />
      ) : (
        <>
          <Figures stats={stats.data} t={t} />
          {stats.data.vehicles > 0 && <Due />}
          {stats.data.garages > 0 && <Recent />}
        </>
      )}
    </section>
  );
}

function Figures({ stats, t }: { stats: Stats; t: Translate }) {
  if (stats.garages === 0)
    return (
      <p className="state state-empty">
        {t("overview.empty")} <Link to="/garages/new">{t("garages.new")}</Link>
      </p>
    );
  const mostHeld = Math.max(1, ...stats.busiest.map((g) => g.vehicle_count));
  const brands = [
    ...stats.brands.map((b) => ({ key: b.brand, label: b.brand, value: b.vehicles })),
    ...(stats.other_brands > 0
      ? [{ key: "*", label: t("overview.brands.other"), value: stats.other_brands }]
      : []),
  ];
  const percent = (held: number, capacity: number) => Math.round((held / capacity) * 100);
  return (
    <>
      <dl className="totals">
        <div>
          <dt>{t("overview.garages")}</dt>
          <dd>{stats.garages}</dd>
        </div>
        <div>
          <dt>{t("overview.vehicles")}</dt>
          <dd>{stats.vehicles}</dd>
        </div>
        <div>
          <dt>{t("overview.freePlaces")}</dt>
          <dd>{stats.free_places}</dd>
        </div>
        <div>
          <dt>{t("overview.unlimited")}</dt>
          <dd>{stats.unlimited_garages}</dd>
        </div>
      </dl>
      <div className="charts">
        <Bars
          caption={t("overview.occupancy.title")}
          head={[t("overview.col.garage"), t("overview.col.occupancy")]}
          bars={stats.busiest.map((g) => ({
            key: g.id,
            label: <Link to={`/garages/${g.id}`}>{g.name}</Link>,
            value: g.vehicle_count,
            of: g.capacity ?? mostHeld,
            open: g.capacity == null,
            text:
              g.capacity == null
                ? t("overview.occupancy.unlimited", { held: g.vehicle_count })
                : t("overview.occupancy.held", { held: g.vehicle_count, capacity: g.capacity }),
          }))}
        />
        {stats.fullest.length > 0 && (
          <Bars
            caption={t("overview.fullest.title")}
            head={[t("overview.col.garage"), t("overview.col.filled")]}
            bars={stats.fullest.map((g) => ({
              key: g.id,
              label: <Link to={`/garages/${g.id}`}>{g.name}</Link>,
              value: g.vehicle_count,
              of: g.capacity ?? 1,
              text: t("overview.fullest.percent", { percent: percent(g.vehicle_count, g.capacity ?? 1) }),
            }))}
          />
        )}
        <Bars
          caption={t("overview.brands.title")}
          head={[t("overview.col.brand"), t("overview.col.vehicles")]}
          bars={brands.map((b) => ({ ...b, of: stats.vehicles, text: String(b.value) }))}
        />
        <Bars
          caption={t("overview.ages.title")}
          head={[t("overview.col.age"), t("overview.col.vehicles")]}
          bars={stats.ages.map((a) => ({
            key: a.from,
            label:
              a.to == null
                ? t("overview.ages.last", { from: a.from })
                : t("overview.ages.band", { from: a.from, to: a.to }),
            value: a.vehicles,
            of: stats.vehicles,
            text: String(a.vehicles),
          }))}
        />
      </div>
    </>
  );
}

/** The plans due soon or overdue across the fleet, filterable by garage. */
function Due() {
  const { t } = useI18n();
  const [garage, setGarage] = useState<number | null>(null);
  const due = useQuery({
    queryKey: ["reminders", "overview", garage],
    queryFn: () => api.reminders({ limit: 10, garage_id: garage ?? undefined }),
  });
  return (
    <section aria-labelledby="due-title" className="due">
      <h2 id="due-title">{t("overview.due")}</h2>
      <div className="filters">
        <GaragePicker
          id="due-garage"
          label={t("vehicle.col.garage")}
          value={garage}
          onChange={(g) => setGarage(g.id)}
        />
        {garage != null && (
          <button type="button" className="secondary" onClick={() => setGarage(null)}>
            {t("reminders.allGarages")}
          </button>
        )}
      </div>
      <ListOf query={due} empty={t("overview.due.none")}>
        {(items) => <ReminderTable reminders={items} />}
      </ListOf>
      <p>
        <Link to={garage != null ? `/reminders?garage=${garage}` : "/reminders"}>
          {t("overview.due.all")}
        </Link>
      </p>
    </section>
  );
}

/** The last few things that happened, with the way to all of them. */
function Recent() {
  const { t } = useI18n();
  const recent = useInfiniteQuery({
    queryKey: ["activity", "recent"],
    queryFn: () => api.activity({ limit: 6 }),
    initialPageParam: null as string | null,
    // The whole activity is a page of its own.
    getNextPageParam: () => null,
  });
  return (
    <section aria-labelledby="recent-title" className="history">
      <h2 id="recent-title">{t("overview.recent")}</h2>
      <Timeline history={recent} perspective="fleet" />
      <p>
        <Link to="/activity">{t("overview.allActivity")}</Link>
      </p>
    </section>
  );
}
