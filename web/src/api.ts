// The one module that talks to the Garage API. Every call either resolves
// with typed data or rejects with an ApiError (the server refused, with a
// problem document) or a NetworkError (the server could not be reached).

import type { components } from "./api.gen";

// The wire types come from the OpenAPI document the server serves
// (docs/openapi.json, generated from the code): `npm run gen:api` writes
// src/api.gen.ts, and the lint fails while it is stale. Fields the server
// always sends are required here even where the document marks them
// nullable-and-optional.
type Schemas = components["schemas"];

export type Garage = Required<Schemas["GarageBody"]> & {
  /** The version read, when fetched alone: send it back as If-Match. */
  etag?: string;
};

export type Vehicle = Required<Schemas["VehicleBody"]> & {
  /** The version read, when fetched alone: send it back as If-Match. */
  etag?: string;
};

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export type GarageInput = Schemas["CreateGarage"];

export type VehicleInput = Schemas["CreateVehicle"];

/** One thing wrong with the input: a field, a line of an import, or both. */
export type FieldError = Schemas["ProblemItem"];

export type ImportReport = Schemas["ImportBody"];

export type Scope = Schemas["ScopeBody"];

/** Who the server takes the caller for. */
export type Me = Required<Schemas["MeBody"]>;

export type ApiKeyInfo = Required<Schemas["KeyBody"]>;

/** A new key; `secret` is shown this once. */
export type CreatedKey = ApiKeyInfo & { secret: string };

export type KeyInput = Schemas["CreateKey"];

/** A webhook endpoint; never its secret. */
export type Webhook = Required<Schemas["WebhookBody"]>;

/** An endpoint with its signing secret, shown this once. */
export type WebhookWithSecret = Webhook & { secret: string };

export type WebhookInput = Schemas["CreateWebhook"];

/** One event's delivery to an endpoint. */
export type Delivery = Required<Schemas["DeliveryBody"]>;

/** Something that happened: one per write. */
export type HistoryEvent = Schemas["EventBody"];

/** The fleet at a glance. */
export type Stats = Schemas["StatsBody"];

/** The server answered with an RFC 9457 problem. */
/** A vehicle's odometer, plans and work done. */
export type Care = Schemas["CareBody"];
export type Plan = Schemas["PlanBody"];
export type PlanInput = Schemas["PutPlan"];
export type CareStatus = Schemas["StatusBody"];
export type Reading = Schemas["ReadingBody"];
export type CareRecord = Schemas["RecordBody"];
export type DoneInput = Schemas["MarkDone"];
/** A plan due soon or overdue, with its vehicle. */
export type Reminder = Schemas["ReminderBody"];
/** A calendar token; its secret only when just made. */
export type CalendarToken = Schemas["CalendarBody"];
export type CreatedCalendar = Schemas["CalendarWithToken"];

/** Which reminders to list; empty ones are left out. */
export interface ReminderFilters {
  status?: string;
  garage_id?: number;
  kind?: string;
}

export class ApiError extends Error {
  readonly status: number;
  readonly type: string;
  readonly title: string;
  readonly detail: string;
  readonly errors: FieldError[];

  constructor(status: number, problem: Partial<Omit<ApiError, "status">>) {
    super(problem.detail ?? problem.title ?? `HTTP ${status}`);
    this.name = "ApiError";
    this.status = status;
    this.type = problem.type ?? "about:blank";
    this.title = problem.title ?? "";
    this.detail = problem.detail ?? "";
    this.errors = Array.isArray(problem.errors) ? problem.errors : [];
  }
}

/** The server could not be reached at all. */
export class NetworkError extends Error {
  constructor(cause: unknown) {
    super("network error", { cause });
    this.name = "NetworkError";
  }
}

const base = `${(import.meta.env.VITE_API_BASE_URL ?? "").replace(/\/$/, "")}/api/v1`;

const KEY_STORAGE = "garage.apiKey";

/** The API key this tab sends, kept in session storage: gone when the tab closes. */
export const apiKey = {
  get(): string | null {
    try {
      return sessionStorage.getItem(KEY_STORAGE);
    } catch {
      return null;
    }
  },
  set(key: string | null): void {
    try {
      if (key) sessionStorage.setItem(KEY_STORAGE, key);
      else sessionStorage.removeItem(KEY_STORAGE);
    } catch {
      // Storage refused (private mode): the key is not kept.
    }
  },
};

type Query = Record<string, string | number | null | undefined>;

function withQuery(path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== "") params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

interface Options {
  body?: unknown;
  /** Sent as is, with this content type, instead of JSON. */
  raw?: { data: Blob; type: string };
  /** The version the write expects (412 when the resource has changed since). */
  ifMatch?: string;
  /** Makes a POST safe to send again: the server runs it once. */
  idempotencyKey?: string;
}

async function send(method: string, path: string, options: Options = {}): Promise<Response> {
  const headers: Record<string, string> = { Accept: "application/json" };
  let body: BodyInit | undefined;
  if (options.raw) {
    headers["Content-Type"] = options.raw.type;
    body = options.raw.data;
  } else if (options.body !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(options.body);
  }
  if (options.ifMatch) headers["If-Match"] = options.ifMatch;
  if (options.idempotencyKey) headers["Idempotency-Key"] = options.idempotencyKey;
  const key = apiKey.get();
  if (key) headers.Authorization = `Bearer ${key}`;
  try {
    return await fetch(`${base}${path}`, { method, headers, body });
  } catch (cause) {
    throw new NetworkError(cause);
  }
}

async function refusal(response: Response): Promise<ApiError> {
  const text = await response.text();
  let data: unknown = undefined;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    // A proxy's HTML error page, say: keep the status alone.
  }
  return new ApiError(response.status, (data ?? {}) as Partial<ApiError>);
}

async function request<T>(method: string, path: string, options: Options = {}): Promise<T> {
  const response = await send(method, path, options);
  if (response.status === 204) return undefined as T;
  if (!response.ok) throw await refusal(response);
  const data = (await response.json()) as T;
  const etag = response.headers.get("ETag");
  if (etag && data && typeof data === "object") Object.assign(data, { etag });
  return data;
}

/** An export, fetched with this tab's key and handed over as a file. */
async function download(path: string): Promise<Blob> {
  const response = await send("GET", path);
  if (!response.ok) throw await refusal(response);
  return response.blob();
}

export interface ListOptions {
  cursor?: string | null;
  limit?: number;
}

export type ExportFormat = "csv" | "json";

/** How a CSV export is written: `;` and a byte order mark suit French spreadsheets. */
export interface CsvStyle {
  separator?: "comma" | "semicolon";
  bom?: boolean;
}

/** The name a file saved today gets: `vehicles-2026-11-30.csv`. */
/** The absolute address of a path the API gave (a calendar feed), for another application to fetch. */
export function feedUrl(path: string): string {
  return new URL(path, /^https?:/.test(base) ? base : window.location.origin).toString();
}

export function datedName(stem: string, extension: string): string {
  const now = new Date();
  const day = [now.getFullYear(), now.getMonth() + 1, now.getDate()]
    .map((n) => String(n).padStart(2, "0"))
    .join("-");
  return `${stem}-${day}.${extension}`;
}

/** Hands a fetched file to the browser to save. */
export function saveFile(file: Blob, name: string) {
  const url = URL.createObjectURL(file);
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** The filters the vehicle list and its export share; empty ones are left out. */
export interface VehicleFilters {
  plate?: string;
  vin?: string;
  plate_contains?: string;
  brand?: string;
  garage_id?: number | string;
  year_min?: number | string;
  year_max?: number | string;
}

/**
 * A new Idempotency-Key: one per intended write, reused by its retries.
 * 128 random bits as hex (`crypto.randomUUID` exists only in secure
 * contexts, and the UI may be served over plain HTTP on a LAN).
 */
export function newIdempotencyKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export const api = {
  me: () => request<Me>("GET", "/me"),
  stats: () => request<Stats>("GET", "/stats"),
  listKeys: () => request<{ items: ApiKeyInfo[] }>("GET", "/keys"),
  createKey: (input: KeyInput) => request<CreatedKey>("POST", "/keys", { body: input }),
  revokeKey: (id: number) => request<ApiKeyInfo>("DELETE", `/keys/${id}`),
  listGarages: (options: ListOptions & { q?: string; sort?: string } = {}) =>
    request<Page<Garage>>("GET", withQuery("/garages", { ...options })),
  getGarage: (id: number) => request<Garage>("GET", `/garages/${id}`),
  createGarage: (input: GarageInput, idempotencyKey?: string) =>
    request<Garage>("POST", "/garages", { body: input, idempotencyKey }),
  updateGarage: (id: number, input: Partial<GarageInput>, ifMatch?: string) =>
    request<Garage>("PATCH", `/garages/${id}`, { body: input, ifMatch }),
  deleteGarage: (id: number) => request<void>("DELETE", `/garages/${id}`),
  moveAllVehicles: (id: number, toGarageId: number) =>
    request<{ moved: number }>("POST", `/garages/${id}/vehicles/move`, {
      body: { to_garage_id: toGarageId },
    }),
  garageVehicles: (id: number, options: ListOptions = {}) =>
    request<Page<Vehicle>>("GET", withQuery(`/garages/${id}/vehicles`, { ...options })),
  listVehicles: (options: ListOptions & VehicleFilters & { sort?: string } = {}) =>
    request<Page<Vehicle>>("GET", withQuery("/vehicles", { ...options })),
  getVehicle: (id: number) => request<Vehicle>("GET", `/vehicles/${id}`),
  createVehicle: (input: VehicleInput, idempotencyKey?: string) =>
    request<Vehicle>("POST", "/vehicles", { body: input, idempotencyKey }),
  updateVehicle: (id: number, input: Partial<VehicleInput>, ifMatch?: string) =>
    request<Vehicle>("PATCH", `/vehicles/${id}`, { body: input, ifMatch }),
  deleteVehicle: (id: number) => request<void>("DELETE", `/vehicles/${id}`),
  vehicleHistory: (id: number, options: ListOptions = {}) =>
    request<Page<HistoryEvent>>("GET", withQuery(`/vehicles/${id}/history`, { ...options })),
  garageHistory: (id: number, options: ListOptions = {}) =>
    request<Page<HistoryEvent>>("GET", withQuery(`/garages/${id}/history`, { ...options })),
  listWebhooks: () => request<{ items: Webhook[] }>("GET", "/webhooks"),
  createWebhook: (input: WebhookInput) => request<WebhookWithSecret>("POST", "/webhooks", { body: input }),
  updateWebhook: (id: number, input: Schemas["UpdateWebhook"]) =>
    request<Webhook>("PATCH", `/webhooks/${id}`, { body: input }),
  deleteWebhook: (id: number) => request<void>("DELETE", `/webhooks/${id}`),
  rotateWebhookSecret: (id: number) => request<WebhookWithSecret>("POST", `/webhooks/${id}/rotate-secret`),
  testWebhook: (id: number) => request<Delivery>("POST", `/webhooks/${id}/test`),
  webhookDeliveries: (id: number, options: ListOptions = {}) =>
    request<Page<Delivery>>("GET", withQuery(`/webhooks/${id}/deliveries`, { ...options })),
  retryDelivery: (id: number, delivery: number) =>
    request<Delivery>("POST", `/webhooks/${id}/deliveries/${delivery}/retry`),
  activity: (options: ListOptions & { type?: string; garage_id?: number } = {}) =>
    request<Page<HistoryEvent>>("GET", withQuery("/activity", { ...options })),
  care: (id: number) => request<Care>("GET", `/vehicles/${id}/care`),
  readings: (id: number, options: ListOptions = {}) =>
    request<Page<Reading>>("GET", withQuery(`/vehicles/${id}/odometer`, { ...options })),
  recordReading: (id: number, input: Schemas["CreateReading"], idempotencyKey?: string) =>
    request<Reading>("POST", `/vehicles/${id}/odometer`, { body: input, idempotencyKey }),
  putPlan: (id: number, kind: string, input: PlanInput) =>
    request<Plan>("PUT", `/vehicles/${id}/plans/${encodeURIComponent(kind)}`, { body: input }),
  deletePlan: (id: number, kind: string) =>
    request<void>("DELETE", `/vehicles/${id}/plans/${encodeURIComponent(kind)}`),
  markDone: (id: number, kind: string, input: DoneInput, idempotencyKey?: string) =>
    request<Schemas["DoneBody"]>("POST", `/vehicles/${id}/plans/${encodeURIComponent(kind)}/done`, {
      body: input,
      idempotencyKey,
    }),
  reminders: (options: ListOptions & ReminderFilters = {}) =>
    request<Page<Reminder>>("GET", withQuery("/reminders", { ...options })),
  exportReminders: (options: ReminderFilters = {}) => download(withQuery("/reminders.csv", { ...options })),
  listCalendars: () => request<{ items: CalendarToken[] }>("GET", "/calendars"),
  createCalendar: (name: string) => request<CreatedCalendar>("POST", "/calendars", { body: { name } }),
  revokeCalendar: (id: number) => request<void>("DELETE", `/calendars/${id}`),
  exportVehicles: (format: ExportFormat, options: VehicleFilters & CsvStyle = {}) =>
    download(
      withQuery("/vehicles/export", {
        ...options,
        format,
        bom: options.bom ? "true" : undefined,
      }),
    ),
  importVehicles: (file: Blob, dryRun: boolean, idempotencyKey?: string, upsert = false) =>
    request<ImportReport>(
      "POST",
      withQuery("/vehicles/import", {
        dry_run: dryRun ? "true" : undefined,
        mode: upsert ? "upsert" : undefined,
      }),
      {
        raw: { data: file, type: "text/csv" },
        idempotencyKey,
      },
    ),
};
