import { type Vehicle, type VehicleInput } from "../api";
import { Field } from "../components/Field";
import { GaragePicker } from "../components/GaragePicker";
import { ErrorState } from "../components/States";
import { useI18n } from "../i18n";
import { useForm } from "../form";
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
  const form = useForm(
    {
      license_plate: vehicle?.license_plate ?? "",
      brand: vehicle?.brand ?? "",
      model: vehicle?.model ?? "",
      year: vehicle?.year.toString() ?? "",
      vin: vehicle?.vin ?? "",
      garage_id: String(vehicle?.garage_id ?? garageId),
      registered_on: vehicle?.registered_on ?? "",
    },
    (values) => ({
      license_plate: rules.plate(values.license_plate),
      brand: rules.text(values.brand, 50),
      model: rules.text(values.model, 50),
      year: rules.year(values.year),
      vin: rules.vin(values.vin),
    }),
    { error, onEdit },
  );
  const submit = form.submit((values) =>
    onSubmit({
      garage_id: Number(garage.value),
      license_plate: values.license_plate.trim(),
      brand: values.brand.trim(),
      model: values.model.trim(),
      year: Number(values.year),
      vin: values.vin.trim().toUpperCase() || null,
      registered_on: values.registered_on || null,
    }),
  );
  const { invalid, generalError } = form;
  const { error: garageError, ...garage } = form.field("garage_id");
  return (
    <form onSubmit={submit} noValidate className="form">
      <Field
        label={t("vehicle.field.plate")}
        {...form.field("license_plate")}
        hint={t("vehicle.field.plate.hint")}
        required
        autoCapitalize="characters"
        spellCheck={false}
      />
      <Field label={t("vehicle.field.brand")} {...form.field("brand")} required maxLength={50} />
      <Field label={t("vehicle.field.model")} {...form.field("model")} required maxLength={50} />
      <Field
        label={t("vehicle.field.year")}
        type="number"
        inputMode="numeric"
        min={1886}
        max={rules.lastModelYear()}
        {...form.field("year")}
        required
      />
      <Field
        label={t("vehicle.field.vin")}
        {...form.field("vin")}
        hint={t("vehicle.field.vin.hint")}
        autoCapitalize="characters"
        spellCheck={false}
        maxLength={17}
      />
      <Field
        label={t("vehicle.field.registeredOn")}
        hint={t("vehicle.field.registeredOn.hint")}
        type="date"
        {...form.field("registered_on")}
      />
      {movable ? (
        <div className={garageError ? "field field-invalid" : "field"}>
          <GaragePicker
            id="vehicle-garage"
            label={t("vehicle.field.garage")}
            value={Number(garage.value)}
            current={vehicle?.garage_id}
            onChange={(g) => form.set("garage_id", String(g.id))}
            invalid={garageError !== null}
            describedBy={garageError ? "vehicle-garage-error" : undefined}
          />
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
