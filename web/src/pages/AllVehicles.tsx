import { useQueries, useQuery } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link, useSearchParams } from "react-router";

import { api, datedName, saveFile, type Garage } from "../api";
import { GaragePicker } from "../components/GaragePicker";
import { Pager } from "../components/Pager";
import { Empty, ErrorState, Loading } from "../components/States";
import { Table } from "../components/Table";
import { useTitle } from "../components/Title";
import { useI18n } from "../i18n";
import { describe } from "../problems";
import { displayPlate } from "../validation";

/** The filters this page keeps in its address, beside `sort` and `cursor`. */
const FILTERS = ["plate_contains", "brand", "garage_id", "year_min", "year_max"] as const;
type Filter = (typeof FILTERS)[number];

/**
 * Every vehicle of the fleet, sorted by any column and filtered; the
 * address holds it all, so a view can be bookmarked, shared, or exported
 * as it is.
 */
export function AllVehicles() {
  const { t, formatDate, language } = useI18n();
  useTitle(t("vehicles.title"));
  const [params, setParams] = useSearchParams();
  const sort = params.get("sort") ?? "license_plate";
  const descending = sort.startsWith("-");
  const by = descending ? sort.slice(1) : sort;
  const filters = Object.fromEntries(FILTERS.map((f) => [f, params.get(f) ?? ""])) as Record<Filter, string>;
  const cursor = params.get("cursor") ?? undefined;
  const vehicles = useQuery({
    queryKey: ["vehicles", "all", filters, sort, cursor],
    queryFn: () => api.listVehicles({ ...filters, sort, cursor }),
  });
  // Each garage of the page, named (cached across pages).
  const garageIds = [...new Set(vehicles.data?.items.map((v) => v.garage_id) ?? [])];
  const garages = useQueries({
    queries: garageIds.map((id) => ({ queryKey: ["garage", id], queryFn: () => api.getGarage(id) })),
  });
  const garageName = (id: number) => garages.find((g) => g.data?.id === id)?.data?.name ?? `#${id}`;
  const [draft, setDraft] = useState(filters);
  const [picked, setPicked] = useState<Garage | null>(null);
  const apply = (event: FormEvent) => {
    event.preventDefault();
    const next = new URLSearchParams();
    for (const f of FILTERS) if (draft[f].trim()) next.set(f, draft[f].trim());
    if (params.get("sort")) next.set("sort", sort);
    setParams(next);
  };
  const clear = () => {
    setDraft(Object.fromEntries(FILTERS.map((f) => [f, ""])) as Record<Filter, string>);
    setPicked(null);
    setParams(params.get("sort") ? { sort } : {});
  };
  const href = (key: string, desc: boolean) => {
    const next = new URLSearchParams(params);
    next.delete("cursor");
    next.set("sort", desc ? `-${key}` : key);
    return `/vehicles?${next.toString()}`;
  };
  const [exporting, setExporting] = useState<unknown>(null);
  const exportShown = async () => {
    setExporting(null);
    try {
      const separator = language === "fr" ? "semicolon" : "comma";
      const file = await api.exportVehicles("csv", { ...filters, separator, bom: true });
      saveFile(file, datedName("vehicles", "csv"));
    } catch (error) {
      setExporting(error);
    }
  };
  const field = (name: Filter) => ({
    id: `filter-${name}`,
    value: draft[name],
    onChange: (e: React.ChangeEvent<HTMLInputElement>) => setDraft((d) => ({ ...d, [name]: e.target.value })),
  });
  return (
    <section aria-labelledby="all-vehicles-title">
      <div className="heading">
        <h1 id="all-vehicles-title">{t("vehicles.title")}</h1>
        <button type="button" className="secondary" onClick={exportShown}>
          {t("vehicles.export")}
        </button>
      </div>
      {exporting !== null && (
        <p className="error" role="alert">
          {describe(exporting, t)}
        </p>
      )}
      <form className="filters" onSubmit={apply} aria-label={t("vehicles.filters")}>
        <div className="field">
          <label htmlFor="filter-plate_contains">{t("vehicles.filter.plate")}</label>
          <input type="search" {...field("plate_contains")} maxLength={30} autoCapitalize="characters" />
        </div>
        <div className="field">
          <label htmlFor="filter-brand">{t("vehicles.filter.brand")}</label>
          <input type="search" {...field("brand")} maxLength={50} />
        </div>
        <div className="field">
          <label htmlFor="filter-year_min">{t("vehicles.filter.yearMin")}</label>
          <input type="number" inputMode="numeric" min={1886} {...field("year_min")} />
        </div>
        <div className="field">
          <label htmlFor="filter-year_max">{t("vehicles.filter.yearMax")}</label>
          <input type="number" inputMode="numeric" min={1886} {...field("year_max")} />
        </div>
        <div className="field">
          <GaragePicker
            id="filter-garage"
            label={t("vehicles.filter.garage")}
            value={draft.garage_id ? Number(draft.garage_id) : null}
            onChange={(g) => {
              setPicked(g);
              setDraft((d) => ({ ...d, garage_id: String(g.id) }));
            }}
            needs={0}
          />
        </div>
        <div className="actions">
          <button type="submit">{t("vehicles.filter.apply")}</button>
          {(FILTERS.some((f) => filters[f]) || picked) && (
            <button type="button" className="secondary" onClick={clear}>
              {t("vehicles.filter.clear")}
            </button>
          )}
        </div>
      </form>
      {vehicles.isPending ? (
        <Loading />
      ) : vehicles.isError ? (
        <ErrorState error={vehicles.error} onRetry={() => vehicles.refetch()} />
      ) : vehicles.data.items.length === 0 ? (
        <Empty>{t("vehicles.empty")}</Empty>
      ) : (
        <>
          <Table
            rows={vehicles.data.items}
            rowKey={(v) => v.id}
            sorting={{ by, descending, href }}
            columns={[
              {
                label: t("vehicle.col.plate"),
                sortKey: "license_plate",
                cellClass: "plate",
                cell: (v) => <Link to={`/vehicles/${v.id}/edit`}>{displayPlate(v.license_plate)}</Link>,
              },
              { label: t("vehicle.col.brand"), sortKey: "brand", cell: (v) => v.brand },
              { label: t("vehicle.col.model"), sortKey: "model", cell: (v) => v.model },
              { label: t("vehicle.col.year"), sortKey: "year", num: true, cell: (v) => v.year },
              {
                label: t("vehicles.col.garage"),
                sortKey: "garage_id",
                cell: (v) => <Link to={`/garages/${v.garage_id}`}>{garageName(v.garage_id)}</Link>,
              },
              {
                label: t("vehicles.col.updated"),
                sortKey: "updated_at",
                cell: (v) => formatDate(v.updated_at),
              },
            ]}
          />
          <Pager nextCursor={vehicles.data.next_cursor} />
        </>
      )}
    </section>
  );
}
