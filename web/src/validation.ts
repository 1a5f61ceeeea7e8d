// The API's rules, checked as the user types so most mistakes never reach
// the server. The server stays the authority: its answers are shown too.

import type { MessageKey } from "./i18n/en";

export type Check = { key: MessageKey; params?: Record<string, string | number> } | null;

const control = /\p{Cc}/u;

export function text(value: string, max: number): Check {
  const trimmed = value.trim();
  if (!trimmed) return { key: "validation.required" };
  if ([...trimmed].length > max) return { key: "validation.tooLong", params: { max } };
  if (control.test(trimmed)) return { key: "validation.control" };
  return null;
}

/** A plate as the API stores it: letters and digits, upper case. */
export function canonicalPlate(value: string): string {
  return value.replace(/[ .-]/g, "").toUpperCase();
}

export function plate(value: string): Check {
  if (!value.trim()) return { key: "validation.required" };
  const canonical = canonicalPlate(value);
  if (!/^[A-Z0-9]*$/.test(canonical)) return { key: "validation.plateChars" };
  if (canonical.length < 2 || canonical.length > 12) return { key: "validation.plateLength" };
  return null;
}

export function lastModelYear(now: Date = new Date()): number {
  return now.getUTCFullYear() + 1;
}

export function year(value: string, now: Date = new Date()): Check {
  if (!value.trim()) return { key: "validation.required" };
  const n = Number(value);
  const last = lastModelYear(now);
  if (!Number.isInteger(n) || n < 1886 || n > last)
    return { key: "validation.year", params: { min: "1886", max: String(last) } };
  return null;
}

/** Empty means "no VIN". */
export function vin(value: string): Check {
  const trimmed = value.trim();
  if (!trimmed) return null;
  if (!/^[A-HJ-NPR-Z0-9]{17}$/i.test(trimmed)) return { key: "validation.vin" };
  return null;
}

export const MAX_CAPACITY = 1_000_000;

/** Empty means "no limit". */
export function capacity(value: string): Check {
  if (!value.trim()) return null;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > MAX_CAPACITY)
    return { key: "validation.capacity", params: { max: MAX_CAPACITY } };
  return null;
}

/**
 * A stored (canonical) plate as people write it where its national form
 * is recognisable: French SIV `AB-123-CD`, French FNI `1234 AB 69`; any
 * other as stored.
 */
export function displayPlate(canonical: string): string {
  const siv = /^([A-HJ-NP-TV-Z]{2})(\d{3})([A-HJ-NP-TV-Z]{2})$/.exec(canonical);
  if (siv) return `${siv[1]}-${siv[2]}-${siv[3]}`;
  const fni = /^(\d{1,4})([A-Z]{1,3})(\d{2}|2A|2B|97[1-6])$/.exec(canonical);
  if (fni) return `${fni[1]} ${fni[2]} ${fni[3]}`;
  return canonical;
}
