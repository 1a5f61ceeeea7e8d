// A vehicle's history as a timeline in a real browser: who moved it from
// which garage to which, and what they changed, in English and in French.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { launchBrowser, shot, startServer } from "./server.mjs";

const KEY = "history-test-key-0123456789";
// SCREENSHOTS=dir saves the timeline there.
let server;
let browser;
let ids;

async function call(method, url, key, body) {
  const response = await fetch(`${server.base}/api/v1${url}`, {
    method,
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: body && JSON.stringify(body),
  });
  assert.ok(response.ok, `${method} ${url}: ${response.status} ${await response.clone().text()}`);
  return response.json();
}

before(async () => {
  server = await startServer({ APP__AUTH__API_KEYS: KEY });
  browser = await launchBrowser();
  const alice = (await call("POST", "/keys", KEY, { name: "Alice", scope: "write" })).secret;
  const nord = await call("POST", "/garages", alice, { name: "Garage Nord", address: "1 rue de Lille" });
  const lyon = await call("POST", "/garages", alice, { name: "Dépôt Lyon", address: "2 quai Rambaud" });
  const van = await call("POST", "/vehicles", alice, {
    garage_id: nord.id,
    brand: "Citroen",
    model: "Berlingo",
    year: 2021,
    license_plate: "AB-123-CD",
  });
  await call("PATCH", `/vehicles/${van.id}`, alice, { brand: "Citroën" });
  await call("PATCH", `/vehicles/${van.id}`, alice, { garage_id: lyon.id });
  ids = { nord: nord.id, lyon: lyon.id, van: van.id };
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test("a vehicle's page tells who moved it, from where to where, and what changed", async () => {
  const context = await browser.newContext({ locale: "en-GB", viewport: { width: 1000, height: 900 } });
  const page = await context.newPage();
  await page.goto(`${server.base}/vehicles/${ids.van}/edit`);
  const timeline = page.locator(".timeline > li");
  await timeline.first().waitFor();
  assert.equal(await timeline.count(), 3);
  const moved = timeline.nth(0);
  assert.equal(await moved.getAttribute("data-event-type"), "vehicle.moved");
  assert.match(await moved.innerText(), /Moved from Garage Nord to Dépôt Lyon by Alice, \d/);
  const changed = timeline.nth(1);
  assert.match(await changed.innerText(), /Changed by Alice/);
  assert.match(await changed.innerText(), /Brand Citroen → Citroën/);
  assert.match(await timeline.nth(2).innerText(), /Added to Garage Nord by Alice/);
  await shot(page, "history");

  // The garage it left shows the move out, and its own creation.
  await page.goto(`${server.base}/garages/${ids.nord}`);
  const garageTimeline = page.locator(".timeline > li");
  await garageTimeline.first().waitFor();
  assert.match(
    await garageTimeline.nth(0).innerText(),
    new RegExp(`#${ids.van}: Moved from Garage Nord to Dépôt Lyon by Alice`),
  );
  assert.match(await garageTimeline.nth(1).innerText(), /Garage created by Alice/);

  // The fleet's activity, newest first, filtered from the URL's choices.
  await page.getByRole("link", { name: "Activity" }).click();
  const lines = page.locator(".timeline > li");
  await lines.first().waitFor();
  assert.match(
    await lines.nth(0).innerText(),
    new RegExp(`#${ids.van}: Moved from Garage Nord to Dépôt Lyon`),
  );
  assert.match(await lines.nth(2).innerText(), /AB123CD: Added to Garage Nord by Alice/);
  await page.getByLabel("What").selectOption({ label: "Garages" });
  await page.waitForURL(/type=garage/);
  // Only the two garages' creations remain.
  await page.waitForFunction(() => document.querySelectorAll(".timeline > li").length === 2);
  assert.match(await lines.nth(0).innerText(), /Garage created by Alice/);
  await context.close();
});

test("the timeline speaks French", async () => {
  const context = await browser.newContext({ locale: "fr-FR" });
  const page = await context.newPage();
  await page.goto(`${server.base}/vehicles/${ids.van}/edit`);
  const moved = page.locator(".timeline > li").first();
  await moved.getByText("Déplacé de Garage Nord vers Dépôt Lyon").waitFor();
  assert.match(await moved.innerText(), /Déplacé de Garage Nord vers Dépôt Lyon par Alice, \d/);
  await context.close();
});
