import { useQuery } from "@tanstack/react-query";
import { Link, useSearchParams } from "react-router";

import { api } from "../api";
import { Empty, ErrorState, Loading } from "../components/States";
import { useI18n } from "../i18n";
import * as rules from "../validation";

/** `/vehicles?plate=…`: any spelling of a plate finds its vehicle. */
export function PlateSearch() {
  const { t } = useI18n();
  const [params] = useSearchParams();
  const plate = params.get("plate") ?? "";
  const valid = rules.plate(plate) === null;
  const canonical = rules.canonicalPlate(plate);
  const found = useQuery({
    queryKey: ["vehicles", { plate: canonical }],
    queryFn: () => api.listVehicles({ plate: canonical }),
    enabled: valid,
  });
  return (
    <section aria-labelledby="plate-title">
      <h1 id="plate-title">{t("search.title", { plate: canonical || plate })}</h1>
      {!valid ? (
        <p className="error" role="alert">
          {t("search.invalid")}
        </p>
      ) : found.isPending ? (
        <Loading />
      ) : found.isError ? (
        <ErrorState error={found.error} onRetry={() => found.refetch()} />
      ) : found.data.items.length === 0 ? (
        <Empty>{t("search.none", { plate: canonical })}</Empty>
      ) : (
        <ul className="results">
          {found.data.items.map((v) => (
            <li key={v.id}>
              <span className="plate">{v.license_plate}</span> {v.brand} {v.model} ({v.year}) — <GarageLink id={v.garage_id} /> · <Link to={`/vehicles/${v.id}/edit`}>{t("vehicle.edit")}</Link>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function GarageLink({ id }: { id: number }) {
  const { t } = useI18n();
  const garage = useQuery({ queryKey: ["garage", id], queryFn: () => api.getGarage(id) });
  return <Link to={`/garages/${id}`}>{t("vehicle.inGarage", { garage: garage.data?.name ?? `#${id}` })}</Link>;
}
