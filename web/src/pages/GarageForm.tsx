import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useNavigate, useParams } from "react-router";

import { api, ApiError, newIdempotencyKey, type Garage, type GarageInput } from "../api";
import { Field } from "../components/Field";
import { ErrorState, Loading } from "../components/States";
import { useTitle } from "../components/Title";
import { useI18n } from "../i18n";
import { useForm } from "../form";
import { describe } from "../problems";
import * as rules from "../validation";

/** Create a garage, or edit the one in the URL. */
export function GarageForm() {
  const { id } = useParams();
  const garageId = id ? Number(id) : null;
  const existing = useQuery({
    queryKey: ["garage", garageId],
    queryFn: () => api.getGarage(garageId!),
    enabled: garageId !== null,
  });
  if (garageId !== null && existing.isPending) return <Loading />;
  if (garageId !== null && existing.isError)
    return <ErrorState error={existing.error} onRetry={() => existing.refetch()} />;
  return (
    <GarageFormFields
      key={garageId === null ? "new" : `${garageId}-${existing.data?.etag ?? ""}`}
      garage={existing.data ?? null}
      onReload={() => existing.refetch()}
    />
  );
}

function GarageFormFields({ garage, onReload }: { garage: Garage | null; onReload: () => void }) {
  const { t } = useI18n();
  useTitle(garage ? t("garage.title.edit", { name: garage.name }) : t("garage.title.new"));
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  // One key per version of the form: resending after a lost answer cannot create twice.
  const [key, setKey] = useState(newIdempotencyKey);
  const save = useMutation({
    // If-Match: a save over someone else's change is refused, not lost.
    mutationFn: (input: GarageInput) =>
      garage ? api.updateGarage(garage.id, input, garage.etag) : api.createGarage(input, key),
    onSuccess: (saved) => {
      queryClient.invalidateQueries({ queryKey: ["garages"] });
      queryClient.setQueryData(["garage", saved.id], saved);
      navigate(`/garages/${saved.id}`, { state: { notice: t("garage.saved") } });
    },
  });
  const form = useForm(
    {
      name: garage?.name ?? "",
      address: garage?.address ?? "",
      capacity: garage?.capacity?.toString() ?? "",
    },
    (values) => ({
      name: rules.text(values.name, 100),
      address: rules.text(values.address, 200),
      capacity: rules.capacity(values.capacity),
    }),
    {
      error: save.error,
      onEdit: () => {
        setKey(newIdempotencyKey());
        save.reset();
      },
    },
  );
  const submit = form.submit((values) =>
    save.mutate({
      name: values.name.trim(),
      address: values.address.trim(),
      capacity: values.capacity.trim() ? Number(values.capacity) : null,
    }),
  );
  const { invalid, generalError } = form;
  return (
    <section aria-labelledby="garage-form-title">
      <h1 id="garage-form-title">
        {garage ? t("garage.title.edit", { name: garage.name }) : t("garage.title.new")}
      </h1>
      <form onSubmit={submit} noValidate className="form">
        <Field
          label={t("garage.field.name")}
          {...form.field("name")}
          required
          maxLength={100}
          autoComplete="organization"
        />
        <Field
          label={t("garage.field.address")}
          {...form.field("address")}
          required
          maxLength={200}
          // A depot's address, never the user's own: no autofill
          // (street-address is for multi-line fields besides).
          autoComplete="off"
        />
        <Field
          label={t("garage.field.capacity")}
          type="number"
          inputMode="numeric"
          min={1}
          {...form.field("capacity")}
          hint={t("garage.field.capacity.hint")}
        />
        {invalid && (
          <p className="error" role="alert">
            {t("validation.fix")}
          </p>
        )}
        {generalError && (
          <ErrorState
            error={save.error}
            onRetry={save.error instanceof ApiError && save.error.status === 412 ? onReload : undefined}
          />
        )}
        <div className="actions">
          <button type="submit" disabled={save.isPending}>
            {garage ? t("garage.save") : t("garage.create")}
          </button>
          <Link to={garage ? `/garages/${garage.id}` : "/garages"} className="button secondary">
            {t("garage.cancel")}
          </Link>
        </div>
      </form>
      {save.isError && !generalError && (
        <p className="visually-hidden" role="status">
          {describe(save.error, t)}
        </p>
      )}
    </section>
  );
}
