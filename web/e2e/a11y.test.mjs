// Every route checked against WCAG 2.1 (A and AA) by the IBM Equal Access
// engine (accessibility-checker-engine, Apache-2.0), injected into the real
// pages in Chromium: a violation fails the test, named with its rule and
// where it is.

import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { after, before, test } from "node:test";

import { callApi, launchBrowser, startServer } from "./server.mjs";

const engine = createRequire(import.meta.url).resolve("accessibility-checker-engine/ace.js");

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** Creates through the API; returns the new id. */
const post = async (path, body) => (await callApi(server.base, "POST", path, body)).id;

/** The WCAG 2.1 violations on the page as it is now. */
async function violations(page) {
  await page.addScriptTag({ path: engine });
  return page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const report = await new ace.Checker().check(document, ["WCAG_2_1"]);
    return report.results
      .filter((r) => r.value[0] === "VIOLATION" && r.value[1] === "FAIL")
      .map((r) => `${r.ruleId} at ${r.path.dom}: ${r.message}`);
  });
}

test("no route breaks a WCAG 2.1 A or AA rule, in French or English", async () => {
  const garage = await post("/garages", { name: "Dépôt Lyon", address: "1 quai Perrache", capacity: 2 });
  const other = await post("/garages", { name: "Hangar", address: "2 route de Vienne" });
  const vehicle = await post("/vehicles", {
    garage_id: garage,
    brand: "Renault",
    model: "Clio",
    year: 2021,
    license_plate: "AX-111-YY",
  });
  await post("/vehicles", {
    garage_id: other,
    brand: "Peugeot",
    model: "208",
    year: 2019,
    license_plate: "AX-222-ZZ",
  });
  // The vehicle's care in full: readings on two days (a chart), plans, work done.
  await callApi(server.base, "POST", `/vehicles/${vehicle}/odometer`, { km: 1000, read_on: "2026-01-10" });
  await callApi(server.base, "POST", `/vehicles/${vehicle}/odometer`, { km: 1800 });
  await callApi(server.base, "PUT", `/vehicles/${vehicle}/plans/service`, { every_km: 1500 });
  await callApi(server.base, "PUT", `/vehicles/${vehicle}/plans/insurance`, { due_on: "2026-01-01" });
  await callApi(server.base, "POST", `/vehicles/${vehicle}/plans/service/done`, { note: "Vidange" });
  const routes = [
    "/",
    "/garages",
    `/garages/${garage}`,
    `/garages/${garage}/edit`,
    "/garages/new",
    `/garages/${other}/vehicles/new`,
    "/vehicles",
    "/vehicles?sort=-year&brand=renault",
    "/vehicles?plate=AX111YY",
    `/vehicles/${vehicle}/edit`,
    "/vehicles/import-export",
    "/activity",
    "/reminders",
    "/keys",
    "/webhooks",
    "/garages/999999",
    "/nowhere",
  ];
  const found = [];
  for (const locale of ["fr-FR", "en-GB"]) {
    // The engine is injected as a script: this context only lifts the CSP.
    const context = await browser.newContext({ locale, bypassCSP: true });
    const page = await context.newPage();
    for (const route of routes) {
      await page.goto(`${server.base}${route}`);
      await page.locator("main h1, main .state").first().waitFor();
      await page.waitForLoadState("networkidle");
      for (const v of await violations(page)) found.push(`${locale} ${route}: ${v}`);
    }
    await context.close();
  }
  assert.deepEqual(found, []);
});
