import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link, useLocation, useNavigate, useParams, useSearchParams } from "react-router";

import { useCan } from "../access";
import { api, type Garage, type Vehicle } from "../api";
import { History } from "../components/History";
import { Pager } from "../components/Pager";
import { GaragePicker } from "../components/GaragePicker";
import { Empty, ErrorState, Loading } from "../components/States";
import { Table } from "../components/Table";
import { useTitle } from "../components/Title";
import { useI18n } from "../i18n";
import { describe } from "../problems";
import { displayPlate } from "../validation";

export function GarageDetail() {
  const { t, formatDate } = useI18n();
  const id = Number(useParams().id);
  const [params] = useSearchParams();
  const cursor = params.get("cursor") ?? undefined;
  const { state } = useLocation() as { state: { notice?: string } | null };
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const mayWrite = useCan("write");
  const garage = useQuery({ queryKey: ["garage", id], queryFn: () => api.getGarage(id) });
  useTitle(garage.data?.name);
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
  const [target, setTarget] = useState<Garage | null>(null);
  const moveAll = useMutation({
    mutationFn: (to: Garage) => api.moveAllVehicles(id, to.id),
    onSuccess: (_, to) => {
      queryClient.invalidateQueries({ queryKey: ["garage", to.id] });
      queryClient.invalidateQueries({ queryKey: ["stats"] });
    },
    onSettled: refresh,
  });

  if (garage.isPending) return <Loading />;
  if (garage.isError) return <ErrorState error={garage.error} onRetry={() => garage.refetch()} />;
  const g = garage.data;
  const notice = moveAll.isSuccess
    ? t("garage.moveAll.done", { count: moveAll.data.moved, name: moveAll.variables.name })
    : deleteVehicle.isSuccess
      ? t("vehicle.deleted", { plate: displayPlate(deleteVehicle.variables.license_plate) })
      : state?.notice;
  const full = g.capacity !== null && g.vehicle_count >= g.capacity;
  const moveAllSubmit = (event: FormEvent) => {
    event.preventDefault();
    if (target && window.confirm(t("garage.moveAll.confirm", { count: g.vehicle_count, name: target.name })))
      moveAll.mutate(target);
  };
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
      {moveAll.isError && (
        <p className="error" role="alert">
          {describe(moveAll.error, t)}
        </p>
      )}
      <div className="heading">
        <h2>{t("garage.vehicles")}</h2>
        {mayWrite &&
          (full ? (
            <span className="actions">
              <button type="button" disabled aria-describedby="garage-full-reason">
                {t("garage.addVehicle")}
              </button>
              <small id="garage-full-reason" className="hint">
                {t("garage.full")}
              </small>
            </span>
          ) : (
            <Link to={`/garages/${g.id}/vehicles/new`} className="button">
              {t("garage.addVehicle")}
            </Link>
          ))}
      </div>
      {vehicles.isPending ? (
        <Loading />
      ) : vehicles.isError ? (
        <ErrorState error={vehicles.error} onRetry={() => vehicles.refetch()} />
      ) : vehicles.data.items.length === 0 ? (
        <Empty>{t("garage.vehicles.empty")}</Empty>
      ) : (
        <>
          <Table
            rows={vehicles.data.items}
            rowKey={(v) => v.id}
            columns={[
              {
                label: t("vehicle.col.plate"),
                cellClass: "plate",
                cell: (v) => displayPlate(v.license_plate),
              },
              { label: t("vehicle.col.brand"), cell: (v) => v.brand },
              { label: t("vehicle.col.model"), cell: (v) => v.model },
              { label: t("vehicle.col.year"), num: true, cell: (v) => v.year },
              { label: t("vehicle.col.vin"), cellClass: "plate", cell: (v) => v.vin ?? "—" },
              {
                label: t("vehicle.col.actions"),
                actions: true,
                cell: (v) =>
                  mayWrite && (
                    <>
                      <Link
                        to={`/vehicles/${v.id}/edit`}
                        aria-label={`${t("vehicle.edit")} ${displayPlate(v.license_plate)}`}
                      >
                        {t("vehicle.edit")}
                      </Link>
                      <button
                        type="button"
                        className="link danger"
                        aria-label={`${t("vehicle.delete")} ${displayPlate(v.license_plate)}`}
                        disabled={deleteVehicle.isPending}
                        onClick={() => {
                          if (
                            window.confirm(
                              t("vehicle.delete.confirm", { plate: displayPlate(v.license_plate) }),
                            )
                          )
                            deleteVehicle.mutate(v);
                        }}
                      >
                        {t("vehicle.delete")}
                      </button>
                    </>
                  ),
              },
            ]}
          />
          <Pager nextCursor={vehicles.data.next_cursor} />
        </>
      )}
      {mayWrite && g.vehicle_count > 0 && (
        <form className="panel move-all" onSubmit={moveAllSubmit} aria-labelledby="move-all-title">
          <h2 id="move-all-title">{t("garage.moveAll.title")}</h2>
          <p className="hint">{t("garage.moveAll.help", { count: g.vehicle_count })}</p>
          <GaragePicker
            id="move-all-target"
            label={t("garage.moveAll.to")}
            value={target?.id ?? null}
            onChange={setTarget}
            needs={g.vehicle_count}
            exclude={g.id}
          />
          <div className="actions">
            <button type="submit" disabled={!target || moveAll.isPending}>
              {t("garage.moveAll.submit", { count: g.vehicle_count })}
            </button>
          </div>
        </form>
      )}
      <History of={{ garage: id }} />
    </section>
  );
}
