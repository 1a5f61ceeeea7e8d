import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useNavigate, useParams } from "react-router";

import { api, newIdempotencyKey, type VehicleInput } from "../api";
import { ErrorState, Loading } from "../components/States";
import { useTitle } from "../components/Title";
import { useI18n } from "../i18n";
import { displayPlate } from "../validation";
import { VehicleForm } from "./VehicleForm";

export function VehicleNew() {
  const { t } = useI18n();
  const garageId = Number(useParams().id);
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const garage = useQuery({ queryKey: ["garage", garageId], queryFn: () => api.getGarage(garageId) });
  useTitle(garage.data ? t("vehicle.title.new", { garage: garage.data.name }) : null);
  // One key per version of the form: resending after a lost answer cannot add the vehicle twice.
  const [key, setKey] = useState(newIdempotencyKey);
  const create = useMutation({
    mutationFn: (input: VehicleInput) => api.createVehicle(input, key),
    onSuccess: (vehicle) => {
      queryClient.invalidateQueries({ queryKey: ["garage", garageId] });
      queryClient.invalidateQueries({ queryKey: ["garages"] });
      navigate(`/garages/${garageId}`, {
        state: { notice: t("vehicle.created", { plate: displayPlate(vehicle.license_plate) }) },
      });
    },
  });
  if (garage.isPending) return <Loading />;
  if (garage.isError) return <ErrorState error={garage.error} onRetry={() => garage.refetch()} />;
  return (
    <section aria-labelledby="vehicle-new-title">
      <p className="crumbs">
        <Link to={`/garages/${garageId}`}>← {garage.data.name}</Link>
      </p>
      <h1 id="vehicle-new-title">{t("vehicle.title.new", { garage: garage.data.name })}</h1>
      <VehicleForm
        vehicle={null}
        garageId={garageId}
        movable={false}
        submitLabel={t("vehicle.create")}
        pending={create.isPending}
        error={create.error}
        onSubmit={(input) => create.mutate(input)}
        onEdit={() => {
          setKey(newIdempotencyKey());
          create.reset();
        }}
      />
    </section>
  );
}
