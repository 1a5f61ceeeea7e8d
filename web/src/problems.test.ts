import { describe, expect, it } from "vitest";

import { ApiError, type FieldError } from "./api";
import { translate, type Translate } from "./i18n";
import { formatDay } from "./components/Reminders";
import { describe as describeError, describeItem, fieldErrors } from "./problems";

const fr: Translate = (key, params) => translate("fr", key, params);
const item = (over: Partial<FieldError>): FieldError => ({
  code: "refused",
  message: "server words",
  ...over,
});

describe("problem items", () => {
  it("are translated from their code and bounds, never from the English message", () => {
    const english = "must be between 1886 and 2027";
    expect(describeItem(item({ code: "out_of_range", min: 1886, max: 2027, message: english }), fr)).toBe(
      "De 1886 à 2027.",
    );
    expect(describeItem(item({ code: "too_long", max: 50 }), fr)).toBe("50 caractères au plus.");
    expect(describeItem(item({ code: "required" }), fr)).toBe("Obligatoire.");
    expect(describeItem(item({ code: "out_of_range", min: 1, max: Number.MAX_SAFE_INTEGER + 1 }), fr)).toBe(
      "Au moins 1.",
    );
    expect(describeItem(item({ code: "duplicate", field: "license_plate" }), fr)).toMatch(/immatriculation/);
    expect(describeItem(item({ code: "unknown_garage", field: "garage_id" }), fr)).toBe(
      "Ce garage n’existe pas (ou plus).",
    );
  });

  it("name what an import's header and lines get wrong, in the user's language", () => {
    expect(describeItem(item({ code: "unknown_column", field: "Plaque immat" }), fr)).toMatch(
      /^Colonne « Plaque immat » inconnue/,
    );
    expect(describeItem(item({ code: "field_count", max: 6 }), fr)).toBe(
      "Pas autant de champs que l’en-tête (6).",
    );
    expect(describeItem(item({ code: "ambiguous_garage", field: "garage" }), fr)).toMatch(/garage_id/);
  });

  it("keep the server's words only for a rule it explains or a code this UI does not know", () => {
    expect(describeItem(item({ code: "refused", message: "private address" }), fr)).toBe("private address");
    expect(describeItem(item({ code: "brand_new" as FieldError["code"], message: "new rule" }), fr)).toBe(
      "new rule",
    );
  });

  it("give each field its first complaint", () => {
    const error = new ApiError(422, {
      type: "/problems/validation",
      errors: [
        { field: "garage_id", code: "unknown_garage", message: "garage 9 does not exist" },
        { field: "year", code: "out_of_range", min: 1886, max: 2027, message: "x" },
        { field: "year", code: "required", message: "y" },
      ],
    });
    expect(fieldErrors(error, fr)).toEqual({
      garage_id: "Ce garage n’existe pas (ou plus).",
      year: "De 1886 à 2027.",
    });
  });
});

describe("care", () => {
  it("says a reading goes backwards with the bound the readings around it leave", () => {
    const below = new ApiError(409, {
      type: "/problems/odometer-backwards",
      errors: [item({ code: "out_of_range", field: "km", min: 14_900, max: 9_999_999 })],
    });
    expect(describeError(below, fr)).toMatch(
      /^Un compteur ne recule pas : le relevé doit être d’au moins 14\s900 km/,
    );
    const above = new ApiError(409, {
      type: "/problems/odometer-backwards",
      errors: [item({ code: "out_of_range", field: "km", min: 0, max: 3_000 })],
    });
    expect(describeError(above, fr)).toMatch(/d’au plus 3\s000 km, le relevé suivant/);
  });

  it("shows a day as written, whatever the time zone", () => {
    expect(formatDay("2027-03-01", "fr")).toBe("1 mars 2027");
    expect(formatDay("2027-12-31", "en")).toBe("31 Dec 2027");
  });
});
