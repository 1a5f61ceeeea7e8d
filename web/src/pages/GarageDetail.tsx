import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, useLocation, useNavigate, useParams, useSearchParams } from "react-router";

import { useCan } from "../access";
import { api, type Vehicle } from "../api";
import { History } from "../components/History";
import { Pager } from "../components/Pager";
import { Empty, ErrorState, Loading } from "../components/States";
import { useI18n } from "../i18n";
import { describe } from "../problems";

export function GarageDetail() {
  const { t, formatDate } = useI18n();
  const id = Number(useParams().id);
  const [params] = useSearchParams();
  const cursor = params.get("cursor");
  const { state } = useLocation() as { state: { notice?: string } | null };
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const mayWrite = useCan("write");
  const garage = useQuery({ queryKey: ["garage", id], queryFn: () => api.getGarage(id) });
  const vehicles = useQuery({
    queryKey: ["garage", id, "vehicles", cursor],
    queryFn: () => api.garageVehicles(id, { cursor }),
    enabled: garage.isSuccess,
  });
  const refresh = () => {
    queryClient.invalidateQueries({ queryKey: ["garage", id] });
    queryClient.invalidateQueries({ queryKey: ["garages"] });
  };
  const deleteGarage = useMutation({
    mutationFn: () => api.deleteGarage(id),
    onSuccess: () => {
      queryClient.invalidateQueries({ queryKey: ["garages"] });
      queryClient.removeQueries({ queryKey: ["garage", id] });
      navigate("/garages", { state: { notice: t("garage.deleted", { name: garage.data?.name ?? "" }) } });
    },
    onError: refresh,
  });
  const deleteVehicle = useMutation({
    mutationFn: (vehicle: Vehicle) => api.deleteVehicle(vehicle.id),
    onSettled: refresh,
  });

  if (garage.isPending) return <Loading />;
  if (garage.isError) return <ErrorState error={garage.error} onRetry={() => garage.refetch()} />;
  const g = garage.data;
  const notice = deleteVehicle.isSuccess
    ? t("vehicle.deleted", { plate: deleteVehicle.variables.license_plate })
    : state?.notice;
  return (
    <section aria-labelledby="garage-title">
      <p className="crumbs">
        <Link to="/garages">← {t("nav.garages")}</Link>
      </p>
      <div className="heading">
        <h1 id="garage-title">{g.name}</h1>
        {mayWrite && (
          <div className="actions">
            <Link to={`/garages/${g.id}/edit`} className="button secondary">
              {t("garage.edit")}
            </Link>
            <button
              type="button"
              className="danger"
              disabled={deleteGarage.isPending}
              onClick={() => {
                if (window.confirm(t("garage.delete.confirm", { name: g.name }))) deleteGarage.mutate();
              }}
            >
              {t("garage.delete")}
            </button>
          </div>
        )}
      </div>
      <p className="address">{g.address}</p>
      <p className="meta">
        {t("garage.holds", { count: g.vehicle_count })} ·{" "}
        {g.capacity === null ? t("garage.noLimit") : t("garage.capacity", { capacity: g.capacity })} ·{" "}
        {t("dates.updated", { date: formatDate(g.updated_at) })}
      </p>
      {notice && (
        <p className="notice" role="status">
          {notice}
        </p>
      )}
      {deleteGarage.isError && (
        <p className="error" role="alert">
          {describe(deleteGarage.error, t)}
        </p>
      )}
      {deleteVehicle.isError && (
        <p className="error" role="alert">
          {describe(deleteVehicle.error, t)}
        </p>
      )}
      <div className="heading">
        <h2>{t("garage.vehicles")}</h2>
        {mayWrite && (
          <Link to={`/garages/${g.id}/vehicles/new`} className="button">
            {t("garage.addVehicle")}
          </Link>
        )}
      </div>
      {vehicles.isPending ? (
        <Loading />
      ) : vehicles.isError ? (
        <ErrorState error={vehicles.error} onRetry={() => vehicles.refetch()} />
      ) : vehicles.data.items.length === 0 ? (
        <Empty>{t("garage.vehicles.empty")}</Empty>
      ) : (
        <>
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">{t("vehicle.col.plate")}</th>
                  <th scope="col">{t("vehicle.col.brand")}</th>
                  <th scope="col">{t("vehicle.col.model")}</th>
                  <th scope="col" className="num">
                    {t("vehicle.col.year")}
                  </th>
                  <th scope="col">{t("vehicle.col.vin")}</th>
                  <th scope="col">
                    <span className="visually-hidden">{t("vehicle.col.actions")}</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {vehicles.data.items.map((v) => (
                  <tr key={v.id}>
                    <td data-label={t("vehicle.col.plate")} className="plate">
                      {v.license_plate}
                    </td>
                    <td data-label={t("vehicle.col.brand")}>{v.brand}</td>
                    <td data-label={t("vehicle.col.model")}>{v.model}</td>
                    <td data-label={t("vehicle.col.year")} className="num">
                      {v.year}
                    </td>
                    <td data-label={t("vehicle.col.vin")} className="plate">
                      {v.vin ?? "—"}
                    </td>
                    <td className="row-actions">
                      {mayWrite && (
                        <>
                          <Link
                            to={`/vehicles/${v.id}/edit`}
                            aria-label={`${t("vehicle.edit")} ${v.license_plate}`}
                          >
                            {t("vehicle.edit")}
                          </Link>
                          <button
                            type="button"
                            className="link danger"
                            aria-label={`${t("vehicle.delete")} ${v.license_plate}`}
                            disabled={deleteVehicle.isPending}
                            onClick={() => {
                              if (window.confirm(t("vehicle.delete.confirm", { plate: v.license_plate })))
                                deleteVehicle.mutate(v);
                            }}
                          >
                            {t("vehicle.delete")}
                          </button>
                        </>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <Pager nextCursor={vehicles.data.next_cursor} />
        </>
      )}
      <History of={{ garage: id }} />
    </section>
  );
}
