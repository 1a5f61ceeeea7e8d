import { ApiError, NetworkError, type FieldError } from "./api";
import type { MessageKey } from "./i18n/en";
import type { Translate } from "./i18n";

const byType: Record<string, MessageKey> = {
  "/problems/duplicate-plate": "problem.duplicatePlate",
  "/problems/duplicate-vin": "problem.duplicateVin",
  "/problems/precondition-failed": "problem.changedSince",
  "/problems/garage-full": "problem.garageFull",
  "/problems/garage-not-empty": "problem.garageNotEmpty",
  "/problems/capacity-below-count": "problem.capacityBelowCount",
  "/problems/not-found": "problem.notFound",
  "/problems/unavailable": "problem.unavailable",
  "/problems/unauthorized": "problem.unauthorized",
  "/problems/forbidden": "problem.forbidden",
  "/problems/too-many-requests": "problem.tooManyRequests",
};

/** A sentence for the user about a failed request, in their language when we know the case. */
export function describe(error: unknown, t: Translate): string {
  if (error instanceof NetworkError) return t("state.unreachable");
  if (error instanceof ApiError) {
    // Too few places for many vehicles at once: say how many lack.
    const lacking = error.errors.find((e) => e.code === "not_enough_room");
    if (lacking) return describeItem(lacking, t);
    // A reading out of the range the readings around it leave.
    const range = error.errors.find((e) => e.field === "km" && e.code === "out_of_range");
    if (error.type === "/problems/odometer-backwards" && range?.min !== undefined)
      return (range.max ?? SHOWN_BOUND) >= ODOMETER_MAX
        ? t("problem.odometerBelow", { min: range.min })
        : t("problem.odometerAbove", { max: range.max ?? 0 });
    // Invalid input not tied to a form's field: each complaint, in words.
    if (error.type === "/problems/validation" && error.errors.length > 0)
      return error.errors.map((e) => describeItem(e, t)).join(" ");
    const key = byType[error.type];
    if (key) return t(key);
    return t("state.error", { detail: error.detail || error.title || String(error.status) });
  }
  return t("state.error", { detail: error instanceof Error ? error.message : String(error) });
}

/** The most an odometer shows, in km: a reading's range up to it has no upper bound. */
const ODOMETER_MAX = 9_999_999;

/** The largest bound worth showing: beyond it, a bound means "no limit". */
const SHOWN_BOUND = Number.MAX_SAFE_INTEGER;

/**
 * One entry of a problem's `errors[]` in the user's language, from its
 * stable `code` and parameters. The server's English `message` is shown only
 * for a rule it explains itself (`refused`) or a code this UI does not know.
 */
export function describeItem(item: FieldError, t: Translate): string {
  const { code, field } = item;
  // Years and small counts read without a thousands separator.
  const plain = (n: number | undefined) => (n !== undefined && n < 10_000 ? String(n) : n);
  const [min, max] = [plain(item.min), plain(item.max)];
  switch (code) {
    case "required":
      return t("validation.required");
    case "too_long":
      return max === undefined ? t("code.invalidFormat") : t("validation.tooLong", { max });
    case "too_short":
      return min === undefined ? t("code.invalidFormat") : t("code.tooShort", { min });
    case "out_of_range":
      if (min === undefined) return t("code.invalidFormat");
      if (max === undefined || (item.max ?? 0) >= SHOWN_BOUND) return t("code.atLeast", { min });
      return t("code.outOfRange", { min, max });
    case "invalid_format":
      return t("code.invalidFormat");
    case "invalid_choice":
      return t("code.invalidChoice");
    case "duplicate":
      if (field === "license_plate") return t("problem.duplicatePlate");
      if (field === "vin") return t("problem.duplicateVin");
      return t("code.duplicate");
    case "unknown_garage":
      return t("problem.unknownGarage");
    case "garage_full":
      return t("problem.garageFull");
    case "not_enough_room":
      return t("code.notEnoughRoom", { count: item.missing ?? 0 });
    case "capacity_below_count":
      return t("problem.capacityBelowCount");
    case "unknown_column":
      return t("code.unknownColumn", { column: field ?? "" });
    case "field_count":
      return max === undefined ? t("code.invalidFormat") : t("code.fieldCount", { count: item.max ?? 0 });
    case "ambiguous_garage":
      return t("code.ambiguousGarage");
    case "garage_mismatch":
      return t("code.garageMismatch");
    default:
      return item.message;
  }
}

/** The server's complaints, by form field, in the user's language. */
export function fieldErrors(error: unknown, t: Translate): Record<string, string> {
  if (!(error instanceof ApiError)) return {};
  const out: Record<string, string> = {};
  for (const item of error.errors) {
    if (item.field && !(item.field in out)) out[item.field] = describeItem(item, t);
  }
  return out;
}
