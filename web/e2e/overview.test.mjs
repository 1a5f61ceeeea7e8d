// The overview, the home page: totals and charts a fleet manager reads at a
// glance, in French and English, each chart a table underneath.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { callApi, launchBrowser, shot, startServer } from "./server.mjs";

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

/** The rows of the chart captioned `caption`, each as its cells' text. */
async function chart(page, caption) {
  const table = page.locator("table.bars", { has: page.locator("caption", { hasText: caption }) });
  await table.waitFor();
  const rows = table.locator("tbody tr");
  const out = [];
  for (let i = 0; i < (await rows.count()); i++) {
    const cells = await rows.nth(i).locator("th, td").allInnerTexts();
    out.push(cells.map((c) => c.trim()));
  }
  return out;
}

test("the overview shows totals, occupancy, brands and ages, as charts and tables", async () => {
  const lyon = await post("/garages", { name: "Dépôt Lyon", address: "1 quai Perrache", capacity: 4 });
  const paris = await post("/garages", { name: "Dépôt Paris", address: "2 rue de Rivoli", capacity: 10 });
  const hall = await post("/garages", { name: "Hangar", address: "3 route de Lyon" });
  const year = new Date().getFullYear();
  const cars = [
    [lyon, "OV-001", "Renault", year],
    [lyon, "OV-002", "Renault", year - 4],
    [lyon, "OV-003", "Peugeot", year - 4],
    [paris, "OV-004", "Citroën", year - 12],
    [hall, "OV-005", "Renault", year - 20],
    [hall, "OV-006", "Dacia", year - 1],
  ];
  for (const [garage_id, license_plate, brand, y] of cars) {
    await post("/vehicles", { garage_id, license_plate, brand, model: "X", year: y });
  }

  const context = await browser.newContext({ locale: "fr-FR", viewport: { width: 1100, height: 900 } });
  const page = await context.newPage();
  await page.goto(server.base);
  await page.getByRole("heading", { name: "Vue d’ensemble" }).waitFor();
  await page.locator(".totals").waitFor();
  const totals = await page.locator(".totals div").allInnerTexts();
  assert.deepEqual(
    totals.map((t) => t.replace(/\s+/g, " ").trim()),
    ["Garages 3", "Véhicules 6", "Places libres 10", "Garages sans limite 1"],
  );
  assert.deepEqual(await chart(page, "Occupation des garages les plus chargés"), [
    ["Dépôt Lyon", "3 sur 4"],
    ["Hangar", "2, sans limite"],
    ["Dépôt Paris", "1 sur 10"],
  ]);
  assert.deepEqual(await chart(page, "Garages les plus pleins"), [
    ["Dépôt Lyon", "75 %"],
    ["Dépôt Paris", "10 %"],
  ]);
  assert.deepEqual(await chart(page, "Véhicules par marque"), [
    ["Renault", "3"],
    ["Citroën", "1"],
    ["Dacia", "1"],
    ["Peugeot", "1"],
  ]);
  assert.deepEqual(await chart(page, "Véhicules par âge"), [
    ["0 à 2 ans", "2"],
    ["3 à 5 ans", "2"],
    ["6 à 9 ans", "0"],
    ["10 à 14 ans", "1"],
    ["15 ans et plus", "1"],
  ]);
  // The bars are drawn to scale: Lyon's is three quarters full.
  const lyonBar = page.locator("table.bars tbody tr", { hasText: "Dépôt Lyon" }).first().locator(".fill");
  const [fill, track] = await Promise.all([
    lyonBar.evaluate((e) => e.getBoundingClientRect().width),
    lyonBar.evaluate((e) => e.parentElement.getBoundingClientRect().width),
  ]);
  assert.ok(Math.abs(fill / track - 0.75) < 0.02, `${fill} of ${track}`);
  // The last writes, newest first, with the way to all of them.
  const recent = page.locator("section", { has: page.getByRole("heading", { name: "Activité récente" }) });
  await recent.locator("li").first().waitFor();
  assert.match(await recent.locator("li").first().innerText(), /OV-?006|OV006|Ajouté/);
  await shot(page, "overview");

  // A garage's name leads to its page.
  await page.getByRole("link", { name: "Dépôt Paris" }).first().click();
  await page.getByRole("heading", { name: "Dépôt Paris" }).waitFor();

  // In English too.
  await page.getByLabel("Langue").selectOption("en");
  await page.goto(server.base);
  await page.getByRole("heading", { name: "Overview" }).waitFor();
  assert.deepEqual((await chart(page, "Vehicles by age"))[4], ["15 years and more", "1"]);
  assert.deepEqual((await chart(page, "Occupancy of the busiest garages"))[1], ["Hangar", "2, no limit"]);
  assert.equal(await page.title(), "Overview · Garage");
  await context.close();

  // Dark when the system is: the same page, light text on a dark ground.
  const dark = await browser.newContext({
    locale: "fr-FR",
    colorScheme: "dark",
    viewport: { width: 1100, height: 900 },
  });
  const night = await dark.newPage();
  await night.goto(server.base);
  await night.getByRole("heading", { name: "Vue d’ensemble" }).waitFor();
  await night.locator("table.bars").first().waitFor();
  const [ground, ink] = await night.evaluate(() => {
    const style = getComputedStyle(document.body);
    const lum = (rgb) => {
      const [r, g, b] = rgb.match(/\d+/g).map(Number);
      return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    return [lum(getComputedStyle(document.documentElement).backgroundColor), lum(style.color)];
  });
  assert.ok(ground < 60 && ink > 180, `ground ${ground}, ink ${ink}`);
  await shot(night, "overview-dark");
  await dark.close();
});
