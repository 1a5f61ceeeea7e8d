import { ApiError, NetworkError } from "./api";
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
    const key = byType[error.type];
    if (key) return t(key);
    return t("state.error", { detail: error.detail || error.title || String(error.status) });
  }
  return t("state.error", { detail: error instanceof Error ? error.message : String(error) });
}

/**
 * The server's complaints, by form field. Known conflicts are translated;
 * other messages are the server's own words.
 */
export function fieldErrors(error: unknown, t: Translate): Record<string, string> {
  if (!(error instanceof ApiError)) return {};
  const out: Record<string, string> = {};
  for (const { field, message } of error.errors) {
    if (!field) continue;
    const key = byType[error.type];
    if (key) out[field] = t(key);
    else if (field === "garage_id" && error.status === 422 && /does not exist/.test(message))
      out[field] = t("problem.unknownGarage");
    else out[field] = message;
  }
  return out;
}
