// The one module that talks to the Garage API, through a client typed by
// the OpenAPI document (openapi-fetch over the generated `paths`). Every
// call either resolves with typed data or rejects with an ApiError (the
// server refused, with a problem document) or a NetworkError (the server
// could not be reached).

import createClient from "openapi-fetch";

import type { components, paths } from "./api.gen";

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

/** The server answered with an RFC 9457 problem. */
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

/** Where the API is served: the page's own origin unless the build names another. */
const root = (import.meta.env.VITE_API_BASE_URL ?? "").replace(/\/$/, "") || window.location.origin;

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

/** A query string without its empty parameters: `q=` would filter on nothing. */
function serializeQuery(query: Record<string, unknown>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== "") params.set(key, String(value));
  }
  return params.toString();
}

// The client's routes, parameters, bodies and answers are the generated
// `paths`: a route renamed or a parameter retyped on the server fails the
// type check here, and the lint fails while api.gen.ts is stale.
const client = createClient<paths>({
  baseUrl: root,
  headers: { Accept: "application/json" },
  querySerializer: serializeQuery,
  // Looked up on each call, so a test can stand in for the network.
  fetch: (request) => globalThis.fetch(request),
});

client.use({
  onRequest({ request }) {
    const key = apiKey.get();
    if (key) request.headers.set("Authorization", `Bearer ${key}`);
    return request;
  },
  // Only a request that got no answer at all: an answer that cannot be read
  // (a host serving its HTML page for /api) is not a network failure.
  onError({ error }) {
    return new NetworkError(error);
  },
});

/** What each of the client's calls resolves with. */
interface Answer<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/**
 * The data of a 2xx answer, with its ETag when it has one; an ApiError for
 * any other status (the problem document when the body is one, else the
 * status alone: a proxy's HTML error page, say). A request that got no
 * answer rejects with a NetworkError (the client's onError).
 */
async function settle<T>(pending: Promise<Answer<T>>): Promise<T> {
  const { data, error, response } = await pending;
  if (!response.ok) {
    const problem = error && typeof error === "object" ? (error as Partial<ApiError>) : {};
    throw new ApiError(response.status, problem);
  }
  const etag = response.headers.get("ETag");
  if (etag && data && typeof data === "object") Object.assign(data, { etag });
  return data as T;
}

/** A file fetched with this tab's key; an empty one when the answer had no body. */
async function download(pending: Promise<Answer<Blob>>): Promise<Blob> {
  return (await settle(pending)) ?? new Blob([]);
}

/**
 * A number from a filter's text; none when the text is empty. Text that is
 * not digits (an address edited by hand) goes as it is, for the server to
 * refuse in words, rather than as NaN or a number it did not say.
 */
function num(value: number | string | undefined): number | undefined {
  if (value === undefined || value === "") return undefined;
  return typeof value === "number" || /^\d+$/.test(value) ? Number(value) : (value as unknown as number);
}

export interface ListOptions {
  cursor?: string;
  limit?: number;
}

export type ExportFormat = "csv" | "json";

/** How a CSV export is written: `;` and a byte order mark suit French spreadsheets. */
export interface CsvStyle {
  separator?: "comma" | "semicolon";
  bom?: boolean;
}

/** The absolute address of a path the API gave (a calendar feed), for another application to fetch. */
export function feedUrl(path: string): string {
  return new URL(path, new URL(root, window.location.href)).toString();
}

/** The name a file saved today gets: `vehicles-2026-11-30.csv`. */
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

const id = (id: number) => ({ path: { id } });
const plan = (id: number, kind: string) => ({ path: { id, kind } });
/** A write its retries replay rather than repeat. */
const once = (key?: string) => ({ "Idempotency-Key": key });
/** A write over the version read. */
const over = (resource: number, etag?: string) => ({ ...id(resource), header: { "If-Match": etag } });
/** The vehicle filters as the query types them: numbers where the page holds text. */
const filterQuery = ({ garage_id, year_min, year_max, ...rest }: VehicleFilters) => ({
  ...rest,
  garage_id: num(garage_id),
  year_min: num(year_min),
  year_max: num(year_max),
});

export const api = {
  me: () => settle(client.GET("/api/v1/me")) as Promise<Me>,
  stats: () => settle(client.GET("/api/v1/stats")),
  listKeys: () => settle(client.GET("/api/v1/keys")) as Promise<{ items: ApiKeyInfo[] }>,
  createKey: (input: KeyInput) => settle(client.POST("/api/v1/keys", { body: input })) as Promise<CreatedKey>,
  revokeKey: (key: number) =>
    settle(client.DELETE("/api/v1/keys/{id}", { params: id(key) })) as Promise<ApiKeyInfo>,
  listGarages: (query: ListOptions & { q?: string; sort?: string } = {}) =>
    settle(client.GET("/api/v1/garages", { params: { query } })) as Promise<Page<Garage>>,
  getGarage: (garage: number) =>
    settle(client.GET("/api/v1/garages/{id}", { params: id(garage) })) as Promise<Garage>,
  createGarage: (input: GarageInput, idempotencyKey?: string) =>
    settle(
      client.POST("/api/v1/garages", {
        body: input,
        params: { header: once(idempotencyKey) },
      }),
    ) as Promise<Garage>,
  updateGarage: (garage: number, input: Partial<GarageInput>, ifMatch?: string) =>
    settle(
      client.PATCH("/api/v1/garages/{id}", {
        body: input,
        params: over(garage, ifMatch),
      }),
    ) as Promise<Garage>,
  deleteGarage: (garage: number) => settle(client.DELETE("/api/v1/garages/{id}", { params: id(garage) })),
  moveAllVehicles: (garage: number, toGarageId: number) =>
    settle(
      client.POST("/api/v1/garages/{id}/vehicles/move", {
        params: id(garage),
        body: { to_garage_id: toGarageId },
      }),
    ),
  garageVehicles: (garage: number, query: ListOptions = {}) =>
    settle(client.GET("/api/v1/garages/{id}/vehicles", { params: { ...id(garage), query } })) as Promise<
      Page<Vehicle>
    >,
  listVehicles: ({
    sort,
    cursor,
    limit,
    ...filters
  }: ListOptions & VehicleFilters & { sort?: string } = {}) =>
    settle(
      client.GET("/api/v1/vehicles", { params: { query: { ...filterQuery(filters), sort, cursor, limit } } }),
    ) as Promise<Page<Vehicle>>,
  getVehicle: (vehicle: number) =>
    settle(client.GET("/api/v1/vehicles/{id}", { params: id(vehicle) })) as Promise<Vehicle>,
  createVehicle: (input: VehicleInput, idempotencyKey?: string) =>
    settle(
      client.POST("/api/v1/vehicles", {
        body: input,
        params: { header: once(idempotencyKey) },
      }),
    ) as Promise<Vehicle>,
  updateVehicle: (vehicle: number, input: Partial<VehicleInput>, ifMatch?: string) =>
    settle(
      client.PATCH("/api/v1/vehicles/{id}", {
        body: input,
        params: over(vehicle, ifMatch),
      }),
    ) as Promise<Vehicle>,
  deleteVehicle: (vehicle: number) => settle(client.DELETE("/api/v1/vehicles/{id}", { params: id(vehicle) })),
  vehicleHistory: (vehicle: number, query: ListOptions = {}) =>
    settle(client.GET("/api/v1/vehicles/{id}/history", { params: { ...id(vehicle), query } })) as Promise<
      Page<HistoryEvent>
    >,
  garageHistory: (garage: number, query: ListOptions = {}) =>
    settle(client.GET("/api/v1/garages/{id}/history", { params: { ...id(garage), query } })) as Promise<
      Page<HistoryEvent>
    >,
  listWebhooks: () => settle(client.GET("/api/v1/webhooks")) as Promise<{ items: Webhook[] }>,
  createWebhook: (input: WebhookInput) =>
    settle(client.POST("/api/v1/webhooks", { body: input })) as Promise<WebhookWithSecret>,
  updateWebhook: (webhook: number, input: Schemas["UpdateWebhook"]) =>
    settle(client.PATCH("/api/v1/webhooks/{id}", { params: id(webhook), body: input })) as Promise<Webhook>,
  deleteWebhook: (webhook: number) => settle(client.DELETE("/api/v1/webhooks/{id}", { params: id(webhook) })),
  rotateWebhookSecret: (webhook: number) =>
    settle(
      client.POST("/api/v1/webhooks/{id}/rotate-secret", { params: id(webhook) }),
    ) as Promise<WebhookWithSecret>,
  testWebhook: (webhook: number) =>
    settle(client.POST("/api/v1/webhooks/{id}/test", { params: id(webhook) })) as Promise<Delivery>,
  webhookDeliveries: (webhook: number, query: ListOptions = {}) =>
    settle(client.GET("/api/v1/webhooks/{id}/deliveries", { params: { ...id(webhook), query } })) as Promise<
      Page<Delivery>
    >,
  retryDelivery: (webhook: number, delivery: number) =>
    settle(
      client.POST("/api/v1/webhooks/{id}/deliveries/{delivery_id}/retry", {
        params: { path: { id: webhook, delivery_id: delivery } },
      }),
    ) as Promise<Delivery>,
  activity: (query: ListOptions & { type?: string; garage_id?: number } = {}) =>
    settle(client.GET("/api/v1/activity", { params: { query } })) as Promise<Page<HistoryEvent>>,
  care: (vehicle: number) => settle(client.GET("/api/v1/vehicles/{id}/care", { params: id(vehicle) })),
  readings: (vehicle: number, query: ListOptions = {}) =>
    settle(client.GET("/api/v1/vehicles/{id}/odometer", { params: { ...id(vehicle), query } })) as Promise<
      Page<Reading>
    >,
  recordReading: (vehicle: number, input: Schemas["CreateReading"], idempotencyKey?: string) =>
    settle(
      client.POST("/api/v1/vehicles/{id}/odometer", {
        params: { ...id(vehicle), header: once(idempotencyKey) },
        body: input,
      }),
    ),
  putPlan: (vehicle: number, kind: string, input: PlanInput) =>
    settle(client.PUT("/api/v1/vehicles/{id}/plans/{kind}", { params: plan(vehicle, kind), body: input })),
  deletePlan: (vehicle: number, kind: string) =>
    settle(client.DELETE("/api/v1/vehicles/{id}/plans/{kind}", { params: plan(vehicle, kind) })),
  markDone: (vehicle: number, kind: string, input: DoneInput, idempotencyKey?: string) =>
    settle(
      client.POST("/api/v1/vehicles/{id}/plans/{kind}/done", {
        params: { ...plan(vehicle, kind), header: once(idempotencyKey) },
        body: input,
      }),
    ),
  reminders: (query: ListOptions & ReminderFilters = {}) =>
    settle(client.GET("/api/v1/reminders", { params: { query } })) as Promise<Page<Reminder>>,
  exportReminders: (query: ReminderFilters = {}) =>
    download(client.GET("/api/v1/reminders.csv", { params: { query }, parseAs: "blob" })),
  listCalendars: () => settle(client.GET("/api/v1/calendars")) as Promise<{ items: CalendarToken[] }>,
  createCalendar: (name: string) => settle(client.POST("/api/v1/calendars", { body: { name } })),
  revokeCalendar: (calendar: number) =>
    settle(client.DELETE("/api/v1/calendars/{id}", { params: id(calendar) })),
  exportVehicles: (format: ExportFormat, { separator, bom, ...filters }: VehicleFilters & CsvStyle = {}) =>
    download(
      client.GET("/api/v1/vehicles/export", {
        params: { query: { ...filterQuery(filters), separator, bom: bom || undefined, format } },
        parseAs: "blob",
      }),
    ),
  importVehicles: (file: Blob, dryRun: boolean, idempotencyKey?: string, upsert = false) =>
    settle(
      client.POST("/api/v1/vehicles/import", {
        params: {
          query: { dry_run: dryRun || undefined, mode: upsert ? "upsert" : undefined },
          header: once(idempotencyKey),
        },
        // The file's own bytes: a spreadsheet's Windows-1252 must reach the
        // server as written, not decoded here as text.
        body: file as unknown as string,
        bodySerializer: (body) => body,
        headers: { "Content-Type": "text/csv" },
      }),
    ) as Promise<ImportReport>,
};

/** What a vehicle's form edits; a change elsewhere (a reading) leaves its edits sound. */
const FORM_FIELDS = [
  "garage_id",
  "license_plate",
  "brand",
  "model",
  "year",
  "vin",
  "registered_on",
] as const satisfies readonly (keyof VehicleInput)[];

/**
 * Saves a vehicle's form over the version it was read at. When that
 * version has changed (412) by something the form does not edit, such as a
 * reading that moved the odometer, the edits still apply: they are sent
 * again, once, over the new version. A change to anything the form shows
 * stays the caller's 412, so no one's edit is overwritten unseen.
 */
export async function saveVehicle(base: Vehicle, input: VehicleInput): Promise<Vehicle> {
  try {
    return await api.updateVehicle(base.id, input, base.etag);
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 412) throw error;
    const now = await api.getVehicle(base.id);
    if (FORM_FIELDS.some((field) => (now[field] ?? null) !== (base[field] ?? null))) throw error;
    return api.updateVehicle(base.id, input, now.etag);
  }
}
