// End to end in a real browser: the release UI served by the real garage
// binary, on a fresh PostgreSQL database of this test's own.
//
// Needs GARAGE_BIN (the built binary), Chromium (CHROMIUM_PATH, default
// /usr/bin/chromium), psql, and TEST_DATABASE_URL (default the local server).
// SCREENSHOTS=dir saves the main screens there.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { launchBrowser, shot, startServer } from "./server.mjs";

let server;
let browser;
let base;

before(async () => {
  server = await startServer();
  base = server.base;
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** Accepts the next confirmation dialog. */
function confirmNext(page) {
  page.once("dialog", (dialog) => dialog.accept());
}

test("a fleet is managed from the browser, end to end", async () => {
  const context = await browser.newContext({ locale: "fr-FR", viewport: { width: 1100, height: 800 } });
  const page = await context.newPage();

  // French first, from the browser's language; then switched to English.
  await page.goto(base);
  await page.getByRole("heading", { name: "Vue d’ensemble" }).waitFor();
  await page.getByText("Aucun garage pour l’instant").waitFor();
  assert.equal(await page.locator("html").getAttribute("lang"), "fr");
  await page.getByLabel("Langue").selectOption("en");
  await page.getByText("No garage yet").waitFor();
  assert.equal(await page.locator("html").getAttribute("lang"), "en");

  // Create a garage with room for two vehicles.
  await page.getByRole("link", { name: "New garage" }).click();
  await page.getByLabel("Name").fill("Garage du Nord");
  await page.getByLabel("Address").fill("1 rue de Lille, Paris");
  await page.getByLabel("Capacity").fill("2");
  await page.getByRole("button", { name: "Create garage" }).click();
  await page.getByRole("heading", { name: "Garage du Nord" }).waitFor();
  await page.getByText("Garage saved.").waitFor();
  const nordUrl = page.url();
  assert.match(nordUrl, /\/garages\/\d+$/);

  // A reload keeps the place and the language.
  await page.reload();
  await page.getByRole("heading", { name: "Garage du Nord" }).waitFor();
  await page.getByText("This garage holds no vehicle yet.").waitFor();

  // Add a vehicle: the form checks as the user types.
  await page.getByRole("link", { name: "Add a vehicle" }).click();
  const plate = page.getByLabel("License plate");
  await plate.fill("AB_1");
  await plate.blur();
  await page.getByText("Letters A–Z, digits, spaces, hyphens and dots only.").waitFor();
  await page.getByLabel("Year").fill("1700");
  await page.getByLabel("Year").blur();
  await page.getByText(/A year from 1886 to/).waitFor();
  await shot(page, "vehicle-form-errors");
  await plate.fill("ab-123-cd");
  await page.getByLabel("Brand").fill("Renault");
  await page.getByLabel("Model").fill("Clio");
  await page.getByLabel("Year").fill("2020");
  await page.getByRole("button", { name: "Add vehicle" }).click();
  await page.getByText("Vehicle AB-123-CD added.").waitFor();
  await page.getByRole("cell", { name: "AB-123-CD", exact: true }).waitFor();

  // The same plate in another spelling: the server's refusal shows by the
  // field, and what was typed stays.
  await page.getByRole("link", { name: "Add a vehicle" }).click();
  await page.getByLabel("License plate").fill("AB 123 CD");
  await page.getByLabel("Brand").fill("Peugeot");
  await page.getByLabel("Model").fill("208");
  await page.getByLabel("Year").fill("2022");
  await page.getByRole("button", { name: "Add vehicle" }).click();
  await page.getByText("A vehicle with this plate is already registered.").waitFor();
  assert.equal(await page.getByLabel("Brand").inputValue(), "Peugeot");
  assert.equal(await page.getByLabel("License plate").getAttribute("aria-invalid"), "true");
  await page.getByLabel("License plate").fill("XY-987-ZZ");
  await page.getByRole("button", { name: "Add vehicle" }).click();
  await page.getByText("Vehicle XY-987-ZZ added.").waitFor();

  // The garage is now full: adding is offered no more, and says why.
  const add = page.getByRole("button", { name: "Add a vehicle" });
  assert.equal(await add.isDisabled(), true);
  assert.equal(await add.getAttribute("aria-describedby"), "garage-full-reason");
  await page.getByText("This garage is full: move or delete a vehicle first.").waitFor();
  // A form opened before it filled up is refused by the server all the same.
  await page.goto(`${nordUrl}/vehicles/new`);
  await page.getByLabel("License plate").fill("FU-111-LL");
  await page.getByLabel("Brand").fill("Fiat");
  await page.getByLabel("Model").fill("500");
  await page.getByLabel("Year").fill("2019");
  await page.getByRole("button", { name: "Add vehicle" }).click();
  await page.getByText("This garage is full.").waitFor();
  assert.equal(await page.getByLabel("Model").inputValue(), "500");

  // A second garage, then move a vehicle into it.
  await page.goto(`${base}/garages/new`);
  await page.getByLabel("Name").fill("Atelier Sud");
  await page.getByLabel("Address").fill("9 avenue du Prado, Marseille");
  await page.getByRole("button", { name: "Create garage" }).click();
  await page.getByRole("heading", { name: "Atelier Sud" }).waitFor();
  const sudUrl = page.url();

  // Edit it: the form opens with its values, and the change shows at once.
  await page.getByRole("link", { name: "Edit", exact: true }).click();
  assert.equal(await page.getByLabel("Address").inputValue(), "9 avenue du Prado, Marseille");
  await page.getByLabel("Name").fill("Atelier Sud-Est");
  await page.getByLabel("Capacity").fill("5");
  await page.getByRole("button", { name: "Save" }).click();
  await page.getByRole("heading", { name: "Atelier Sud-Est" }).waitFor();
  await page.getByText("Capacity: 5").waitFor();
  assert.equal(page.url(), sudUrl);

  await page.goto(nordUrl);
  await page.getByRole("link", { name: "Edit AB-123-CD" }).click();
  await page.getByRole("heading", { name: "Edit vehicle AB-123-CD" }).waitFor();
  await page.reload();
  // The garage picker: type part of a name, pick it from the list.
  const picker = page.getByRole("combobox", { name: "Garage" });
  await picker.fill("sud");
  await page.getByRole("option", { name: /Atelier Sud-Est/ }).click();
  assert.equal(await picker.inputValue(), "Atelier Sud-Est");
  await page.getByRole("button", { name: "Save" }).click();
  await page.getByRole("heading", { name: "Atelier Sud-Est" }).waitFor();
  assert.equal(page.url(), sudUrl);
  await page.getByRole("cell", { name: "AB-123-CD", exact: true }).waitFor();
  await shot(page, "garage");

  // Find it by plate from anywhere, in any spelling.
  await page.getByRole("searchbox", { name: "Find a vehicle by plate" }).fill("ab 123-cd");
  await page.getByRole("button", { name: "Find" }).click();
  await page.getByRole("heading", { name: "Vehicles with plate AB-123-CD" }).waitFor();
  await page.getByRole("link", { name: "In Atelier Sud-Est" }).waitFor();

  // A garage holding a vehicle cannot be deleted, and says why.
  await page.goto(sudUrl);
  confirmNext(page);
  await page.getByRole("button", { name: "Delete garage" }).click();
  await page.getByText("This garage still holds vehicles").waitFor();
  await page.getByRole("cell", { name: "AB-123-CD", exact: true }).waitFor();

  // Delete the vehicle, then the garage.
  confirmNext(page);
  await page.getByRole("button", { name: "Delete AB-123-CD" }).click();
  await page.getByText("Vehicle AB-123-CD deleted.").waitFor();
  await page.getByText("This garage holds no vehicle yet.").waitFor();
  await page.reload();
  confirmNext(page);
  await page.getByRole("button", { name: "Delete garage" }).click();
  await page.waitForURL(`${base}/garages`);
  await page.getByText("“Atelier Sud-Est” deleted.").waitFor();
  await page.getByRole("link", { name: "Garage du Nord" }).waitFor();
  assert.equal(await page.getByRole("link", { name: "Atelier Sud-Est" }).count(), 0);
  await shot(page, "garages");

  // Search garages by name; the URL keeps the search.
  await page.getByLabel("Search garages by name").fill("nord");
  await page.getByRole("button", { name: "Search" }).click();
  await page.waitForURL(/q=nord/);
  await page.reload();
  await page.getByRole("link", { name: "Garage du Nord" }).waitFor();

  // Keyboard: the skip link leads to the content.
  // (Once the page has rendered: a Tab before that lands on the bare document.)
  await page.goto(`${base}/garages`);
  await page.getByRole("link", { name: "Garage du Nord" }).waitFor();
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), "Skip to content");

  await context.close();
});

test("an unreachable API is said plainly", async () => {
  const context = await browser.newContext({ locale: "en-GB" });
  const page = await context.newPage();
  await page.route("**/api/v1/**", (route) => route.abort("connectionrefused"));
  await page.goto(`${base}/garages`);
  await page.getByText("The server cannot be reached.").waitFor({ timeout: 15_000 });
  await page.getByRole("button", { name: "Try again" }).waitFor();
  await context.close();
});

test("the interface fits a phone-sized screen", async () => {
  const context = await browser.newContext({
    locale: "fr-FR",
    viewport: { width: 375, height: 740 },
    isMobile: true,
  });
  const page = await context.newPage();
  const created = await fetch(`${base}/api/v1/garages`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({
      name: "Garage des Quais, un nom assez long pour un téléphone",
      address: "3 quai des Docks, Marseille",
      capacity: 40,
    }),
  });
  assert.equal(created.status, 201);
  await page.goto(`${base}/garages`);
  await page.getByRole("link", { name: "Garage des Quais" }).waitFor();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page is ${overflow}px wider than the screen`);
  await page.getByRole("link", { name: "Garage des Quais" }).click();
  await page.getByRole("heading", { name: "Garage des Quais" }).waitFor();
  await page.getByText("Capacité : 40").waitFor();
  await shot(page, "phone");
  await context.close();
});

test("no page scrolls sideways on a 360 px phone", async () => {
  const garage = await fetch(`${base}/api/v1/garages`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({
      name: "Entrepôt logistique de Vénissieux-Parilly",
      address: "1 rue X",
      capacity: 3,
    }),
  }).then((r) => r.json());
  const vehicle = await fetch(`${base}/api/v1/vehicles`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({
      garage_id: garage.id,
      brand: "Renault",
      model: "Kangoo",
      year: 2021,
      license_plate: "PH-360-PX",
    }),
  }).then((r) => r.json());
  const context = await browser.newContext({
    locale: "fr-FR",
    viewport: { width: 360, height: 740 },
    isMobile: true,
  });
  const page = await context.newPage();
  const routes = [
    ["/", "Vue d’ensemble"],
    ["/garages", "Garages"],
    [`/garages/${garage.id}`, garage.name],
    [`/garages/${garage.id}/edit`, `Modifier ${garage.name}`],
    [`/garages/${garage.id}/vehicles/new`, null],
    ["/garages/new", null],
    ["/vehicles", "Tous les véhicules"],
    ["/vehicles?plate=PH360PX", null],
    [`/vehicles/${vehicle.id}/edit`, null],
    ["/vehicles/import-export", "Importer et exporter des véhicules"],
    ["/activity", null],
    ["/reminders", "Échéances"],
    ["/keys", null],
    ["/webhooks", null],
    ["/garages/999999", null],
    ["/nowhere", "Cette page n’existe pas."],
  ];
  for (const [route, heading] of routes) {
    await page.goto(`${base}${route}`);
    if (heading) await page.getByRole("heading", { name: heading, exact: true }).waitFor();
    else await page.locator("main h1, main .state").first().waitFor();
    await page.waitForLoadState("networkidle");
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `${route} is ${overflow}px wider than the screen`);
    const title = await page.title();
    assert.ok(title.endsWith("· Garage") || title === "Garage", `${route}: title ${title}`);
  }
  await context.close();
});

test("names that look like markup are shown as text, never run", async () => {
  const name = `<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>`;
  const created = await fetch(`${base}/api/v1/garages`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ name, address: "'; DROP TABLE garages;--" }),
  });
  assert.equal(created.status, 201);
  const { id } = await created.json();
  const context = await browser.newContext({ locale: "en-GB" });
  const page = await context.newPage();
  let dialogs = 0;
  page.on("dialog", (dialog) => {
    dialogs += 1;
    dialog.dismiss();
  });
  await page.goto(`${base}/garages/${id}`);
  await page.getByRole("heading", { name }).waitFor();
  await page.getByText("'; DROP TABLE garages;--").waitFor();
  assert.equal(await page.evaluate(() => window.__pwned), undefined);
  assert.equal(await page.locator("main img").count(), 0);
  assert.equal(dialogs, 0);
  await context.close();
});
