import { afterEach, describe, expect, it, vi } from "vitest";

import { api, ApiError, apiKey, NetworkError, newIdempotencyKey, saveVehicle } from "./api";

function answer(status: number, body?: unknown, contentType = "application/json") {
  return vi.fn().mockImplementation(
    async () =>
      new Response(body === undefined ? null : JSON.stringify(body), {
        status,
        headers: { "Content-Type": contentType },
      }),
  );
}

/** The request of the `n`th call to the stubbed fetch. */
function sent(fetch: ReturnType<typeof vi.fn>, n = 0): Request {
  return fetch.mock.calls[n]![0] as Request;
}

/** A request's path and query, without the origin. */
const target = (request: Request) => {
  const url = new URL(request.url);
  return url.pathname + url.search;
};

afterEach(() => {
  vi.unstubAllGlobals();
  apiKey.set(null);
});

describe("api client", () => {
  it("sends JSON and returns the created resource", async () => {
    const fetch = answer(201, { id: 7, license_plate: "AB123CD" });
    vi.stubGlobal("fetch", fetch);
    const vehicle = await api.createVehicle({
      garage_id: 1,
      brand: "Renault",
      model: "Clio",
      year: 2020,
      license_plate: "ab-123-cd",
    });
    expect(vehicle.id).toBe(7);
    const request = sent(fetch);
    expect(target(request)).toBe("/api/v1/vehicles");
    expect(request.method).toBe("POST");
    expect(request.headers.get("Content-Type")).toBe("application/json");
    expect(await request.json()).toMatchObject({ license_plate: "ab-123-cd" });
  });

  it("sends the ETag read as If-Match, the key as Idempotency-Key, and reads the ETag back", async () => {
    const fetch = vi.fn().mockImplementation(
      async () =>
        new Response(JSON.stringify({ id: 7, model: "Zoe" }), {
          status: 200,
          headers: { "Content-Type": "application/json", ETag: '"4"' },
        }),
    );
    vi.stubGlobal("fetch", fetch);
    const saved = await api.updateVehicle(7, { model: "Zoe" }, '"3"');
    expect(sent(fetch).headers.get("If-Match")).toBe('"3"');
    expect(target(sent(fetch))).toBe("/api/v1/vehicles/7");
    expect(saved.etag).toBe('"4"');
    await api.createGarage({ name: "a", address: "b", capacity: null }, "key-1");
    expect(sent(fetch, 1).headers.get("Idempotency-Key")).toBe("key-1");
    expect(sent(fetch, 1).headers.has("If-Match")).toBe(false);
  });

  it("uploads an import as CSV with its dry-run flag", async () => {
    const fetch = answer(200, { dry_run: true, rows: 1, imported: 0 });
    vi.stubGlobal("fetch", fetch);
    const file = new Blob(["garage_id,brand,model,year,license_plate\n"], { type: "text/csv" });
    const report = await api.importVehicles(file, true, "k");
    expect(report.rows).toBe(1);
    const request = sent(fetch);
    expect(target(request)).toBe("/api/v1/vehicles/import?dry_run=true");
    expect(request.headers.get("Content-Type")).toBe("text/csv");
    expect(await request.text()).toBe("garage_id,brand,model,year,license_plate\n");
  });

  it("sends a spreadsheet's Windows-1252 bytes as they are", async () => {
    const fetch = answer(200, { dry_run: false, rows: 1, imported: 1 });
    vi.stubGlobal("fetch", fetch);
    // "Citroën" in Windows-1252: ë is the one byte 0xEB, not UTF-8.
    const bytes = new Uint8Array([0x43, 0x69, 0x74, 0x72, 0x6f, 0xeb, 0x6e, 0x0a]);
    await api.importVehicles(new Blob([bytes]), false, undefined, true);
    const request = sent(fetch);
    expect(target(request)).toBe("/api/v1/vehicles/import?mode=upsert");
    expect(request.headers.has("Idempotency-Key")).toBe(false);
    expect(new Uint8Array(await request.arrayBuffer())).toEqual(bytes);
  });

  it("puts a plan's kind in its path, encoded", async () => {
    const fetch = answer(204);
    vi.stubGlobal("fetch", fetch);
    await api.deletePlan(4, "pneus été/hiver");
    expect(target(sent(fetch))).toBe("/api/v1/vehicles/4/plans/pneus%20%C3%A9t%C3%A9%2Fhiver");
  });

  it("asks for the export's filters and style in its query", async () => {
    const fetch = answer(200, "plate;brand", "text/csv");
    vi.stubGlobal("fetch", fetch);
    const file = await api.exportVehicles("csv", {
      garage_id: "12",
      year_min: "",
      brand: "renault",
      separator: "semicolon",
      bom: true,
    });
    const url = new URL(sent(fetch).url);
    expect(url.pathname).toBe("/api/v1/vehicles/export");
    expect(Object.fromEntries(url.searchParams)).toEqual({
      brand: "renault",
      separator: "semicolon",
      bom: "true",
      format: "csv",
      garage_id: "12",
    });
    expect(await file.text()).toBe('"plate;brand"');
  });

  it("makes a new 128-bit idempotency key each time", () => {
    const keys = new Set(Array.from({ length: 50 }, newIdempotencyKey));
    expect(keys.size).toBe(50);
    for (const key of keys) expect(key).toMatch(/^[0-9a-f]{32}$/);
  });

  it("leaves empty query parameters out", async () => {
    const fetch = answer(200, { items: [], next_cursor: null });
    vi.stubGlobal("fetch", fetch);
    await api.listGarages({ q: "", cursor: "42", limit: 10 });
    expect(target(sent(fetch))).toBe("/api/v1/garages?cursor=42&limit=10");
  });

  it("turns a problem document into an ApiError with its field errors", async () => {
    const problem = {
      type: "/problems/duplicate-plate",
      title: "License plate already registered",
      status: 409,
      detail: "taken",
      errors: [{ field: "license_plate", code: "duplicate", message: "taken" }],
    };
    vi.stubGlobal("fetch", answer(409, problem, "application/problem+json"));
    const error = await api
      .createVehicle({ garage_id: 1, brand: "a", model: "b", year: 2020, license_plate: "AA11" })
      .catch((e) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error.status).toBe(409);
    expect(error.type).toBe("/problems/duplicate-plate");
    expect(error.errors).toEqual(problem.errors);
  });

  it("keeps the status when the error body is not JSON", async () => {
    vi.stubGlobal(
      "fetch",
      vi.fn().mockResolvedValue(new Response("<html>Bad gateway</html>", { status: 502 })),
    );
    const error = await api.getGarage(1).catch((e) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error.status).toBe(502);
    expect(error.errors).toEqual([]);
  });

  it("reports an unreachable server as a NetworkError", async () => {
    vi.stubGlobal("fetch", vi.fn().mockRejectedValue(new TypeError("Failed to fetch")));
    await expect(api.listGarages()).rejects.toBeInstanceOf(NetworkError);
  });

  it("does not call an unreadable answer a network failure", async () => {
    vi.stubGlobal(
      "fetch",
      vi.fn().mockResolvedValue(
        new Response("<!doctype html><title>UI</title>", {
          status: 200,
          headers: { "Content-Type": "text/html" },
        }),
      ),
    );
    const error = await api.listGarages().catch((e) => e);
    expect(error).not.toBeInstanceOf(NetworkError);
    expect(error).toBeInstanceOf(SyntaxError);
  });

  it("sends a filter that is not a number as typed, for the server to refuse", async () => {
    const fetch = answer(200, { items: [], next_cursor: null });
    vi.stubGlobal("fetch", fetch);
    await api.listVehicles({ year_min: "2019", year_max: "1e3", garage_id: " " });
    const query = new URL(sent(fetch).url).searchParams;
    expect(query.get("year_min")).toBe("2019");
    expect(query.get("year_max")).toBe("1e3");
    expect(query.get("garage_id")).toBe(" ");
  });

  it("resolves a 204 with nothing", async () => {
    vi.stubGlobal("fetch", answer(204));
    await expect(api.deleteVehicle(3)).resolves.toBeUndefined();
  });

  it("sends the tab's API key as a bearer token, and none once forgotten", async () => {
    const fetch = answer(200, { items: [], next_cursor: null });
    vi.stubGlobal("fetch", fetch);
    apiKey.set("secret-key-0123456789");
    await api.listGarages();
    expect(sent(fetch).headers.get("Authorization")).toBe("Bearer secret-key-0123456789");
    apiKey.set(null);
    await api.listGarages();
    expect(sent(fetch, 1).headers.has("Authorization")).toBe(false);
  });

  describe("saving a vehicle's form", () => {
    const base = {
      id: 7,
      garage_id: 1,
      license_plate: "AB123CD",
      brand: "Renault",
      model: "Clio",
      year: 2020,
      vin: null,
      registered_on: "2020-03-01",
      odometer_km: 1000,
      created_at: "2026-01-01T00:00:00Z",
      updated_at: "2026-01-01T00:00:00Z",
      etag: '"3"',
    };
    const input = { garage_id: 1, license_plate: "AB123CD", brand: "Renault", model: "Zoe", year: 2020 };
    const json = (status: number, body: unknown, etag?: string) =>
      new Response(JSON.stringify(body), {
        status,
        headers: { "Content-Type": "application/json", ...(etag ? { ETag: etag } : {}) },
      });
    const stale = () => json(412, { type: "/problems/precondition-failed", status: 412 });

    it("goes through over a version that changed only by a reading", async () => {
      const fetch = vi
        .fn()
        .mockResolvedValueOnce(stale())
        .mockResolvedValueOnce(json(200, { ...base, odometer_km: 1500 }, '"4"'))
        .mockResolvedValueOnce(json(200, { ...base, model: "Zoe" }, '"5"'));
      vi.stubGlobal("fetch", fetch);
      const saved = await saveVehicle(base, input);
      expect(saved.model).toBe("Zoe");
      expect(saved.etag).toBe('"5"');
      expect(sent(fetch, 0).headers.get("If-Match")).toBe('"3"');
      expect(sent(fetch, 1).method).toBe("GET");
      expect(sent(fetch, 2).headers.get("If-Match")).toBe('"4"');
      expect(await sent(fetch, 2).json()).toEqual(input);
    });

    it("stays refused when someone changed what the form shows", async () => {
      for (const change of [{ brand: "Dacia" }, { garage_id: 2 }, { vin: "VF1RFB00X12345678" }]) {
        const fetch = vi
          .fn()
          .mockResolvedValueOnce(stale())
          .mockResolvedValueOnce(json(200, { ...base, ...change }, '"4"'));
        vi.stubGlobal("fetch", fetch);
        const error = await saveVehicle(base, input).catch((e) => e);
        expect(error).toBeInstanceOf(ApiError);
        expect(error.status).toBe(412);
        expect(fetch).toHaveBeenCalledTimes(2);
      }
    });

    it("passes any other refusal through without a second try", async () => {
      const fetch = vi.fn().mockResolvedValueOnce(json(409, { type: "/problems/garage-full", status: 409 }));
      vi.stubGlobal("fetch", fetch);
      const error = await saveVehicle(base, input).catch((e) => e);
      expect(error.status).toBe(409);
      expect(fetch).toHaveBeenCalledTimes(1);
    });
  });
});
