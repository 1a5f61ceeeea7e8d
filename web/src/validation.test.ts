import { describe, expect, it } from "vitest";

import * as rules from "./validation";

describe("plates", () => {
  it("accepts any spelling and shows the canonical form", () => {
    for (const spelling of ["ab-123-cd", "AB 123 CD", "ab.123.cd", "AB123CD"]) {
      expect(rules.plate(spelling)).toBeNull();
      expect(rules.canonicalPlate(spelling)).toBe("AB123CD");
    }
  });

  it("refuses other symbols, non-ASCII letters and bad lengths", () => {
    expect(rules.plate("")?.key).toBe("validation.required");
    expect(rules.plate("AB_12")?.key).toBe("validation.plateChars");
    expect(rules.plate("ÉT-123")?.key).toBe("validation.plateChars");
    expect(rules.plate("A")?.key).toBe("validation.plateLength");
    expect(rules.plate("ABCDEFGHIJKLM")?.key).toBe("validation.plateLength");
    expect(rules.plate("A-B-C-D-E-F-G-H-I-J-K-L")).toBeNull();
  });
});

describe("years", () => {
  const now = new Date("2026-06-01T00:00:00Z");
  it("run from 1886 to next year", () => {
    expect(rules.year("1885", now)?.key).toBe("validation.year");
    expect(rules.year("1886", now)).toBeNull();
    expect(rules.year("2027", now)).toBeNull();
    expect(rules.year("2028", now)?.params).toEqual({ min: "1886", max: "2027" });
    expect(rules.year("20.5", now)?.key).toBe("validation.year");
    expect(rules.year(" ", now)?.key).toBe("validation.required");
  });
});

describe("text and capacity", () => {
  it("trims and counts characters", () => {
    expect(rules.text("   ", 10)?.key).toBe("validation.required");
    expect(rules.text("é".repeat(10), 10)).toBeNull();
    expect(rules.text("é".repeat(11), 10)?.key).toBe("validation.tooLong");
    expect(rules.text("a\u0007b", 10)?.key).toBe("validation.control");
  });

  it("takes an empty capacity as no limit", () => {
    expect(rules.capacity("")).toBeNull();
    expect(rules.capacity("1")).toBeNull();
    expect(rules.capacity("0")?.key).toBe("validation.capacity");
    expect(rules.capacity("2.5")?.key).toBe("validation.capacity");
    expect(rules.capacity("1000001")?.key).toBe("validation.capacity");
  });
});

describe("VINs", () => {
  it("are optional, 17 letters and digits without I, O or Q, in any case", () => {
    expect(rules.vin("")).toBeNull();
    expect(rules.vin("vf1rfb00x12345678")).toBeNull();
    expect(rules.vin(" VF1RFB00X12345678 ")).toBeNull();
    for (const bad of [
      "VF1RFB00X1234567",
      "VF1RFB00X123456789",
      "VF1RFB00X1234567I",
      "VF1RFB00X1234567q",
      "VF1RFB00X-2345678",
    ]) {
      expect(rules.vin(bad)?.key).toBe("validation.vin");
    }
  });
});

describe("plates on screen", () => {
  it("take their national form where it is recognisable", () => {
    expect(rules.displayPlate("AB123CD")).toBe("AB-123-CD");
    expect(rules.displayPlate("1234AB69")).toBe("1234 AB 69");
    expect(rules.displayPlate("12ABC2A")).toBe("12 ABC 2A");
    expect(rules.displayPlate("5XY974")).toBe("5 XY 974");
    // SIV leaves out I, O and U: not a French plate, shown as stored.
    expect(rules.displayPlate("AI123CD")).toBe("AI123CD");
    expect(rules.displayPlate("B1234567")).toBe("B1234567");
    expect(rules.displayPlate("IM001")).toBe("IM001");
  });
});
