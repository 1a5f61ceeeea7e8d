import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, useNavigate, useParams } from "react-router";

import { api, saveVehicle, type VehicleInput } from "../api";
import { CareSection } from "../components/Care";
import { History } from "../components/History";
import { ErrorState, Loading } from "../components/States";
import { useTitle } from "../components/Title";
import { useI18n } from "../i18n";
import { displayPlate } from "../validation";
import { VehicleForm } from "./VehicleForm";

/** Edit a vehicle's fields, or move it to another garage. */
export function VehicleEdit() {
  const { t } = useI18n();
  const id = Number(useParams().id);
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const vehicle = useQuery({ queryKey: ["vehicle", id], queryFn: () => api.getVehicle(id) });
  useTitle(
    vehicle.data ? t("vehicle.title.edit", { plate: displayPlate(vehicle.data.license_plate) }) : null,
  );
  const save = useMutation({
    // If-Match: a save over someone else's change is refused, not lost; a
    // reading recorded below meanwhile is no such change.
    mutationFn: (input: VehicleInput) => saveVehicle(vehicle.data!, input),
    onSuccess: (saved) => {
      queryClient.setQueryData(["vehicle", id], saved);
      queryClient.invalidateQueries({ queryKey: ["history"] });
      queryClient.invalidateQueries({ queryKey: ["garage"] });
      queryClient.invalidateQueries({ queryKey: ["garages"] });
      navigate(`/garages/${saved.garage_id}`, { state: { notice: t("vehicle.saved") } });
    },
  });
  if (vehicle.isPending) return <Loading />;
  if (vehicle.isError) return <ErrorState error={vehicle.error} onRetry={() => vehicle.refetch()} />;
  const v = vehicle.data;
  return (
    <section aria-labelledby="vehicle-edit-title">
      <p className="crumbs">
        <Link to={`/garages/${v.garage_id}`}>← {t("vehicle.col.garage")}</Link>
      </p>
      <h1 id="vehicle-edit-title">{t("vehicle.title.edit", { plate: displayPlate(v.license_plate) })}</h1>
      <VehicleForm
        key={`${v.id}-${v.etag ?? ""}`}
        vehicle={v}
        garageId={v.garage_id}
        movable
        submitLabel={t("vehicle.save")}
        pending={save.isPending}
        error={save.error}
        onReload={() => vehicle.refetch().then(() => save.reset())}
        onSubmit={(input) => save.mutate(input)}
        onEdit={() => save.reset()}
      />
      <CareSection vehicleId={v.id} />
      <History of={{ vehicle: v.id }} />
    </section>
  );
}
