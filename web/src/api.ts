// The one module that talks to the Garage API. Every call either resolves
// with typed data or rejects with an ApiError (the server refused, with a
// problem document) or a NetworkError (the server could not be reached).

export interface Garage {
  id: number;
  name: string;
  address: string;
  capacity: number | null;
  vehicle_count: number;
  created_at: string;
  updated_at: string;
}

export interface Vehicle {
  id: number;
  garage_id: number;
  brand: string;
  model: string;
  year: number;
  license_plate: string;
  created_at: string;
  updated_at: string;
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export interface GarageInput {
  name: string;
  address: string;
  capacity: number | null;
}

export interface VehicleInput {
  garage_id: number;
  brand: string;
  model: string;
  year: number;
  license_plate: string;
}

export interface FieldError {
  field: string;
  message: string;
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

  /** The server's message for one field, if it named that field. */
  fieldMessage(field: string): string | undefined {
    return this.errors.find((e) => e.field === field)?.message;
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

async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const key = apiKey.get();
  if (key) headers.Authorization = `Bearer ${key}`;
  let response: Response;
  try {
    response = await fetch(`${base}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (cause) {
    throw new NetworkError(cause);
  }
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  let data: unknown = undefined;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    // A proxy's HTML error page, say: keep the status alone.
  }
  if (!response.ok) {
    throw new ApiError(response.status, (data ?? {}) as Partial<ApiError>);
  }
  return data as T;
}

export interface ListOptions {
  cursor?: string | null;
  limit?: number;
}

export const api = {
  listGarages: (options: ListOptions & { q?: string } = {}) =>
    request<Page<Garage>>("GET", withQuery("/garages", { ...options })),
  getGarage: (id: number) => request<Garage>("GET", `/garages/${id}`),
  createGarage: (input: GarageInput) => request<Garage>("POST", "/garages", input),
  updateGarage: (id: number, input: Partial<GarageInput>) => request<Garage>("PATCH", `/garages/${id}`, input),
  deleteGarage: (id: number) => request<void>("DELETE", `/garages/${id}`),
  garageVehicles: (id: number, options: ListOptions = {}) =>
    request<Page<Vehicle>>("GET", withQuery(`/garages/${id}/vehicles`, { ...options })),
  listVehicles: (options: ListOptions & { plate?: string; brand?: string; garage_id?: number } = {}) =>
    request<Page<Vehicle>>("GET", withQuery("/vehicles", { ...options })),
  getVehicle: (id: number) => request<Vehicle>("GET", `/vehicles/${id}`),
  createVehicle: (input: VehicleInput) => request<Vehicle>("POST", "/vehicles", input),
  updateVehicle: (id: number, input: Partial<VehicleInput>) => request<Vehicle>("PATCH", `/vehicles/${id}`, input),
  deleteVehicle: (id: number) => request<void>("DELETE", `/vehicles/${id}`),
};
