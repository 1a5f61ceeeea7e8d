import { useQuery } from "@tanstack/react-query";
import { Link, useSearchParams } from "react-router";

import { api, type Vehicle } from "../api";
import { Empty, ErrorState, Loading } from "../components/States";
import { useI18n } from "../i18n";
import * as rules from "../validation";

/** `/vehicles?plate=…`: any spelling of a plate finds its vehicle; `?vin=…` a VIN's. */
export function PlateSearch() {
  const [params] = useSearchParams();
  const vin = params.get("vin");
  return vin === null ? <ByPlate plate={params.get("plate") ?? ""} /> : <ByVin vin={vin} />;
}

function ByVin({ vin }: { vin: string }) {
  const { t } = useI18n();
  const canonical = vin.trim().toUpperCase();
  const valid = rules.vin(canonical) === null && canonical !== "";
  const found = useQuery({
    queryKey: ["vehicles", { vin: canonical }],
    queryFn: () => api.listVehicles({ vin: canonical }),
    enabled: valid,
  });
  return (
    <section aria-labelledby="plate-title">
      <h1 id="plate-title">{t("search.title.vin", { vin: canonical })}</h1>
      {!valid ? (
        <p className="error" role="alert">
          {t("validation.vin")}
        </p>
      ) : found.isPending ? (
        <Loading />
      ) : found.isError ? (
        <ErrorState error={found.error} onRetry={() => found.refetch()} />
      ) : found.data.items.length === 0 ? (
        <Empty>{t("search.vin.none", { vin: canonical })}</Empty>
      ) : (
        <Results vehicles={found.data.items} />
      )}
    </section>
  );
}

function ByPlate({ plate }: { plate: string }) {
  const { t } = useI18n();
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
        <Results vehicles={found.data.items} />
      )}
    </section>
  );
}

function Results({ vehicles }: { vehicles: Vehicle[] }) {
  const { t } = useI18n();
  return (
    <ul className="results">
      {vehicles.map((v) => (
        <li key={v.id}>
          <span className="plate">{v.license_plate}</span> {v.brand} {v.model} ({v.year}){v.vin && <> · {t("vehicle.col.vin")} <span className="plate">{v.vin}</span></>} — <GarageLink id={v.garage_id} /> · <Link to={`/vehicles/${v.id}/edit`}>{t("vehicle.edit")}</Link>
        </li>
      ))}
    </ul>
  );
}

function GarageLink({ id }: { id: number }) {
  const { t } = useI18n();
  const garage = useQuery({ queryKey: ["garage", id], queryFn: () => api.getGarage(id) });
  return <Link to={`/garages/${id}`}>{t("vehicle.inGarage", { garage: garage.data?.name ?? `#${id}` })}</Link>;
}
