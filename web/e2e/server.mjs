// Starts the real garage binary on a fresh PostgreSQL database for a browser
// test, and cleans both up.

import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { isDeepStrictEqual } from "node:util";

import { chromium } from "playwright-core";

const here = path.dirname(fileURLToPath(import.meta.url));
const adminUrl = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const binary = path.resolve(process.env.GARAGE_BIN ?? path.join(here, "../../target/debug/garage"));

function withDatabase(url, name) {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

function psql(sql) {
  execFileSync("psql", [adminUrl, "-v", "ON_ERROR_STOP=1", "-q", "-c", sql], {
    stdio: ["ignore", "ignore", "inherit"],
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

async function waitUntilReady(url, deadlineMs) {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    try {
      const response = await fetch(`${url}/health/ready`);
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) throw new Error(`the service at ${url} was not ready in ${deadlineMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The service on a database of its own; `env` adds configuration. */
export async function startServer(env = {}) {
  const dbName = `garage_e2e_${process.pid}_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
  psql(`CREATE DATABASE ${dbName}`);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const child = spawn(binary, [], {
    env: {
      ...process.env,
      DATABASE_URL: withDatabase(adminUrl, dbName),
      APP__SERVER__PORT: String(port),
      APP__SERVER__STATIC_DIR: path.join(here, "../dist"),
      APP__LOG__LEVEL: "warn",
      // One user clicking fast stays within the default limit; a test clicks faster.
      APP__RATE_LIMIT__PER_SECOND: "0",
      ...env,
    },
    stdio: ["ignore", "inherit", "inherit"],
  });
  await waitUntilReady(base, 20_000);
  return {
    base,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        await exited;
      }
      psql(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    },
  };
}

export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
}

const screenshots = process.env.SCREENSHOTS ? path.resolve(process.env.SCREENSHOTS) : null;

/** Saves the page as `name`.png in SCREENSHOTS, when that is set. */
export async function shot(page, name) {
  if (!screenshots) return;
  mkdirSync(screenshots, { recursive: true });
  await page.screenshot({ path: path.join(screenshots, `${name}.png`), fullPage: true });
}

/** Signs in through the header's dialog with an API key. */
export async function signIn(page, key) {
  await page.getByRole("button", { name: "Sign in" }).click();
  const dialog = page.getByRole("dialog");
  await dialog.getByLabel("API key").fill(key);
  await dialog.getByRole("button", { name: "Sign in" }).click();
}

/**
 * Calls the API of the service at `base` without a key; fails unless it
 * answers 2xx. Returns the JSON answer, or null when there is none.
 */
export async function callApi(base, method, path, body) {
  const response = await fetch(`${base}/api/v1${path}`, {
    method,
    headers: { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/**
 * Reads `read()` until it deep-equals `expected`, for at most `ms`; then
 * asserts on the last value read. For what a page shows once a request has
 * answered, where waiting for one element could see the view before it.
 */
export async function eventually(read, expected, ms = 5000) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    last = await read();
    if (isDeepStrictEqual(last, expected) || Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.deepEqual(last, expected);
}
