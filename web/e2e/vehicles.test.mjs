// Every vehicle at hand: the list sorted by any column, filtered, the
// address keeping it all, and the view exported as it is.

import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { after, before, test } from "node:test";

import { callApi, eventually, launchBrowser, shot, startServer } from "./server.mjs";

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

/** The plates of the table, top to bottom. */
const plates = (page) => page.locator("table tbody td.plate").allInnerTexts();

test("all vehicles are sorted, filtered and exported, the address keeping the view", async () => {
  const lyon = await post("/garages", { name: "Lyon", address: "1 quai" });
  const nice = await post("/garages", { name: "Nice", address: "2 quai" });
  for (const [garage_id, license_plate, brand, year] of [
    [lyon, "AV-100-AA", "Renault", 2018],
    [nice, "AV-200-BB", "Peugeot", 2022],
    [lyon, "ZZ-300-AV", "Renault", 2021],
    [nice, "AV-400-DD", "Renault", 2015],
    [lyon, "BB-500-CC", "Citroën", 2020],
  ]) {
    await post("/vehicles", { garage_id, license_plate, brand, model: "M", year });
  }
  const context = await browser.newContext({ locale: "en-GB", acceptDownloads: true });
  const page = await context.newPage();
  await page.goto(server.base);
  await page.getByRole("link", { name: "Vehicles", exact: true }).click();
  await page.getByRole("heading", { name: "All vehicles" }).waitFor();
  await page.locator("table tbody tr").nth(4).waitFor();
  await eventually(() => plates(page), ["AV-100-AA", "AV-200-BB", "AV-400-DD", "BB-500-CC", "ZZ-300-AV"]);
  assert.equal(await page.locator("th[aria-sort]").getAttribute("aria-sort"), "ascending");

  // A header sorts by its column; again, the other way.
  await page.getByRole("link", { name: "Year" }).click();
  await page.waitForURL(/sort=year/);
  await page.getByRole("columnheader", { name: "Year" }).and(page.locator("[aria-sort=ascending]")).waitFor();
  await eventually(() => plates(page), ["AV-400-DD", "AV-100-AA", "BB-500-CC", "ZZ-300-AV", "AV-200-BB"]);
  await page.getByRole("link", { name: "Year" }).click();
  await page.waitForURL(/sort=-year/);
  await page
    .getByRole("columnheader", { name: "Year" })
    .and(page.locator("[aria-sort=descending]"))
    .waitFor();
  await eventually(() => plates(page), ["AV-200-BB", "ZZ-300-AV", "BB-500-CC", "AV-100-AA", "AV-400-DD"]);

  // Filters: brand, years, part of a plate, a garage; kept in the address.
  await page.getByLabel("Brand").fill("renault");
  await page.getByLabel("Year from").fill("2016");
  await page.getByLabel("Plate contains").fill("av");
  await page.getByRole("combobox", { name: "Garage" }).fill("lyo");
  await page.getByRole("option", { name: /Lyon/ }).click();
  await page.getByRole("button", { name: "Filter", exact: true }).click();
  await page.waitForURL(/brand=renault/);
  const url = new URL(page.url());
  assert.equal(url.searchParams.get("year_min"), "2016");
  assert.equal(url.searchParams.get("plate_contains"), "av");
  assert.equal(url.searchParams.get("garage_id"), String(lyon));
  assert.equal(url.searchParams.get("sort"), "-year");
  await page.locator("table tbody tr").nth(1).waitFor();
  await eventually(() => plates(page), ["ZZ-300-AV", "AV-100-AA"]);
  await page.getByRole("cell", { name: "Lyon" }).first().waitFor();
  await shot(page, "vehicles");
  await page.reload();
  await page.locator("table tbody tr").nth(1).waitFor();
  await eventually(() => plates(page), ["ZZ-300-AV", "AV-100-AA"]);

  // The export holds what is shown, and nothing else.
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("button", { name: "Export what I see (CSV)" }).click(),
  ]);
  assert.match(download.suggestedFilename(), /^vehicles-\d{4}-\d{2}-\d{2}\.csv$/);
  const lines = (await readFile(await download.path(), "utf8")).trim().split("\n");
  assert.equal(lines.length, 3, lines.join("\n"));
  assert.ok(
    lines.slice(1).every((l) => /Renault/.test(l) && /AV/.test(l)),
    lines.join("\n"),
  );

  // On paper: the list alone, no header, no buttons, within an A4 page.
  await page.setViewportSize({ width: 700, height: 1000 });
  await page.emulateMedia({ media: "print" });
  assert.equal(await page.locator("header.top").isVisible(), false);
  assert.equal(await page.getByRole("button").filter({ visible: true }).count(), 0);
  assert.equal(await page.locator("table").isVisible(), true);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `printed, the page is ${overflow}px wider than A4`);
  await page.emulateMedia({ media: "screen" });
  await page.setViewportSize({ width: 1280, height: 720 });

  // In French, the same view.
  await page.getByLabel("Language").selectOption("fr");
  await page.getByRole("heading", { name: "Tous les véhicules" }).waitFor();
  await page.getByRole("button", { name: "Effacer les filtres" }).click();
  await page.locator("table tbody tr").nth(4).waitFor();
  await context.close();
});
