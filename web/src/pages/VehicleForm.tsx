import { useQuery } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";

import { api, type Vehicle, type VehicleInput } from "../api";
import { Field } from "../components/Field";
import { ErrorState } from "../components/States";
import { useI18n } from "../i18n";
import { fieldErrors } from "../problems";
import * as rules from "../validation";

interface Props {
  /** The vehicle being edited, or null to add one. */
  vehicle: Vehicle | null;
  garageId: number;
  /** Offer to move the vehicle to another garage. */
  movable: boolean;
  submitLabel: string;
  pending: boolean;
  error: unknown;
  /** Offered when the server refused the save because the vehicle changed meanwhile. */
  onReload?: () => void;
  onSubmit: (input: VehicleInput) => void;
  /** Called on every edit, so a stale server error can be cleared. */
  onEdit: () => void;
}

/** Plate, brand, model, year (and garage): checked as typed; the server's refusals shown beside each field. */
export function VehicleForm({
  vehicle,
  garageId,
  movable,
  submitLabel,
  pending,
  error,
  onReload,
  onSubmit,
  onEdit,
}: Props) {
  const { t } = useI18n();
  const [values, setValues] = useState({
    license_plate: vehicle?.license_plate ?? "",
    brand: vehicle?.brand ?? "",
    model: vehicle?.model ?? "",
    year: vehicle?.year.toString() ?? "",
    vin: vehicle?.vin ?? "",
    garage_id: String(vehicle?.garage_id ?? garageId),
  });
  const [touched, setTouched] = useState<Record<string, boolean>>({});
  const [submitted, setSubmitted] = useState(false);
  const garages = useQuery({
    queryKey: ["garages", { all: true }],
    queryFn: () => api.listGarages({ limit: 200 }),
    enabled: movable,
  });
  const local = {
    license_plate: rules.plate(values.license_plate),
    brand: rules.text(values.brand, 50),
    model: rules.text(values.model, 50),
    year: rules.year(values.year),
    vin: rules.vin(values.vin),
  };
  const server = fieldErrors(error, t);
  const errorOf = (field: keyof typeof local | "garage_id") => {
    const check = field === "garage_id" ? null : local[field];
    if (check && (touched[field] || submitted)) return t(check.key, check.params);
    return server[field] ?? null;
  };
  const set =
    (field: keyof typeof values) => (e: React.ChangeEvent<HTMLInputElement | HTMLSelectElement>) => {
      setValues((v) => ({ ...v, [field]: e.target.value }));
      onEdit();
    };
  const blur = (field: string) => () => setTouched((t) => ({ ...t, [field]: true }));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setSubmitted(true);
    if (Object.values(local).some(Boolean)) return;
    onSubmit({
      garage_id: Number(values.garage_id),
      license_plate: values.license_plate.trim(),
      brand: values.brand.trim(),
      model: values.model.trim(),
      year: Number(values.year),
      vin: values.vin.trim().toUpperCase() || null,
    });
  };
  const invalid = submitted && Object.values(local).some(Boolean);
  const generalError = error != null && Object.keys(server).length === 0;
  const garageError = errorOf("garage_id");
  return (
    <form onSubmit={submit} noValidate className="form">
      <Field
        label={t("vehicle.field.plate")}
        name="license_plate"
        value={values.license_plate}
        onChange={set("license_plate")}
        onBlur={blur("license_plate")}
        error={errorOf("license_plate")}
        hint={t("vehicle.field.plate.hint")}
        required
        autoCapitalize="characters"
        spellCheck={false}
      />
      <Field
        label={t("vehicle.field.brand")}
        name="brand"
        value={values.brand}
        onChange={set("brand")}
        onBlur={blur("brand")}
        error={errorOf("brand")}
        required
        maxLength={50}
      />
      <Field
        label={t("vehicle.field.model")}
        name="model"
        value={values.model}
        onChange={set("model")}
        onBlur={blur("model")}
        error={errorOf("model")}
        required
        maxLength={50}
      />
      <Field
        label={t("vehicle.field.year")}
        name="year"
        type="number"
        inputMode="numeric"
        min={1886}
        max={rules.lastModelYear()}
        value={values.year}
        onChange={set("year")}
        onBlur={blur("year")}
        error={errorOf("year")}
        required
      />
      <Field
        label={t("vehicle.field.vin")}
        name="vin"
        value={values.vin}
        onChange={set("vin")}
        onBlur={blur("vin")}
        error={errorOf("vin")}
        hint={t("vehicle.field.vin.hint")}
        autoCapitalize="characters"
        spellCheck={false}
        maxLength={17}
      />
      {movable ? (
        <div className={garageError ? "field field-invalid" : "field"}>
          <label htmlFor="vehicle-garage">{t("vehicle.field.garage")}</label>
          <select
            id="vehicle-garage"
            name="garage_id"
            value={values.garage_id}
            onChange={set("garage_id")}
            aria-invalid={garageError ? true : undefined}
            aria-describedby={garageError ? "vehicle-garage-error" : undefined}
          >
            {(garages.data?.items ?? []).map((g) => (
              <option key={g.id} value={g.id}>
                {g.name}
                {g.capacity !== null ? ` (${g.vehicle_count}/${g.capacity})` : ""}
              </option>
            ))}
            {!garages.data?.items.some((g) => String(g.id) === values.garage_id) && (
              <option value={values.garage_id}>#{values.garage_id}</option>
            )}
          </select>
          {garageError && (
            <small id="vehicle-garage-error" className="error" role="alert">
              {garageError}
            </small>
          )}
        </div>
      ) : (
        garageError && (
          <p className="error" role="alert">
            {garageError}
          </p>
        )
      )}
      {invalid && (
        <p className="error" role="alert">
          {t("validation.fix")}
        </p>
      )}
      {generalError && <ErrorState error={error} onRetry={onReload} />}
      <div className="actions">
        <button type="submit" disabled={pending}>
          {submitLabel}
        </button>
      </div>
    </form>
  );
}
