import { useQuery } from "@tanstack/react-query";
import { Link, useSearchParams } from "react-router";

import { useCan } from "../access";
import { api, type Vehicle } from "../api";
import { Empty, ErrorState, Loading } from "../components/States";
import { useTitle } from "../components/Title";
import { useI18n } from "../i18n";
import * as rules from "../validation";

/** `/vehicles?plate=…`: any spelling of a plate finds its vehicle; `?vin=…` a VIN's. */
export function VehicleSearch() {
  const { t } = useI18n();
  const [params] = useSearchParams();
  const vin = params.get("vin");
  if (vin !== null) {
    const canonical = vin.trim().toUpperCase();
    return (
      <Search
        filter={{ vin: canonical }}
        valid={canonical !== "" && rules.vin(canonical) === null}
        title={t("search.title.vin", { vin: canonical })}
        invalid={t("validation.vin")}
        none={t("search.vin.none", { vin: canonical })}
      />
    );
  }
  const plate = params.get("plate") ?? "";
  const canonical = rules.canonicalPlate(plate);
  return (
    <Search
      filter={{ plate: canonical }}
      valid={rules.plate(plate) === null}
      title={t("search.title", { plate: canonical ? rules.displayPlate(canonical) : plate })}
      invalid={t("search.invalid")}
      none={t("search.none", { plate: rules.displayPlate(canonical) })}
    />
  );
}

interface SearchProps {
  /** The list's filter, canonical: one plate or one VIN. */
  filter: { plate: string } | { vin: string };
  valid: boolean;
  title: string;
  invalid: string;
  none: string;
}

function Search({ filter, valid, title, invalid, none }: SearchProps) {
  useTitle(title);
  const found = useQuery({
    queryKey: ["vehicles", filter],
    queryFn: () => api.listVehicles(filter),
    enabled: valid,
  });
  return (
    <section aria-labelledby="plate-title">
      <h1 id="plate-title">{title}</h1>
      {!valid ? (
        <p className="error" role="alert">
          {invalid}
        </p>
      ) : found.isPending ? (
        <Loading />
      ) : found.isError ? (
        <ErrorState error={found.error} onRetry={() => found.refetch()} />
      ) : found.data.items.length === 0 ? (
        <Empty>{none}</Empty>
      ) : (
        <Results vehicles={found.data.items} />
      )}
    </section>
  );
}

function Results({ vehicles }: { vehicles: Vehicle[] }) {
  const { t } = useI18n();
  const mayWrite = useCan("write");
  return (
    <ul className="results">
      {vehicles.map((v) => (
        <li key={v.id}>
          <span className="plate">{rules.displayPlate(v.license_plate)}</span> {v.brand} {v.model} ({v.year})
          {v.vin && (
            <>
              {" "}
              · {t("vehicle.col.vin")} <span className="plate">{v.vin}</span>
            </>
          )}{" "}
          — <GarageLink id={v.garage_id} />
          {mayWrite && (
            <>
              {" "}
              · <Link to={`/vehicles/${v.id}/edit`}>{t("vehicle.edit")}</Link>
            </>
          )}
        </li>
      ))}
    </ul>
  );
}

function GarageLink({ id }: { id: number }) {
  const { t } = useI18n();
  const garage = useQuery({ queryKey: ["garage", id], queryFn: () => api.getGarage(id) });
  return (
    <Link to={`/garages/${id}`}>{t("vehicle.inGarage", { garage: garage.data?.name ?? `#${id}` })}</Link>
  );
}
