import { describe, expect, it } from "vitest";

import { en } from "./en";
import { fr } from "./fr";
import { detectLanguage, translate } from "./index";

describe("language", () => {
  it("follows a saved choice, then the browser, then French", () => {
    expect(detectLanguage("en", ["fr-FR"])).toBe("en");
    expect(detectLanguage(null, ["de-DE", "en-US", "fr"])).toBe("en");
    expect(detectLanguage(null, ["fr-CA"])).toBe("fr");
    expect(detectLanguage(null, ["de-DE"])).toBe("fr");
    expect(detectLanguage("xx", [])).toBe("fr");
  });
});

describe("catalogues", () => {
  it("have the same keys and no empty text", () => {
    expect(Object.keys(fr).sort()).toEqual(Object.keys(en).sort());
    for (const [key, text] of Object.entries(fr)) expect(text, key).not.toBe("");
  });

  it("keep the same placeholders in both languages", () => {
    const names = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    for (const key of Object.keys(en) as (keyof typeof en)[]) {
      expect(names(fr[key]), key).toEqual(names(en[key]));
    }
  });

  it("say counts in each language's plural forms", () => {
    expect(translate("fr", "garage.holds", { count: 0 })).toBe("0 véhicule");
    expect(translate("fr", "garage.holds", { count: 1 })).toBe("1 véhicule");
    expect(translate("fr", "garage.holds", { count: 2 })).toBe("2 véhicules");
    expect(translate("en", "garage.holds", { count: 0 })).toBe("Holds 0 vehicles");
    expect(translate("en", "garage.holds", { count: 1 })).toBe("Holds 1 vehicle");
    expect(translate("fr", "importExport.import.checked", { count: 1 })).toBe(
      "La ligne peut être importée. Rien n’a encore été écrit.",
    );
    for (const text of [...Object.values(fr), ...Object.values(en)]) expect(text).not.toMatch(/\(s\)/);
  });

  it("fill placeholders and format numbers for the locale", () => {
    expect(translate("en", "garage.capacity", { capacity: 1500 })).toBe("Capacity: 1,500");
    expect(translate("fr", "garage.capacity", { capacity: 1500 })).toBe("Capacité : 1\u202f500");
    expect(translate("fr", "vehicle.created", { plate: "AB123CD" })).toBe("Véhicule AB123CD ajouté.");
  });
});
