// Fleet care in the browser: a service marked as done leaves the overview's
// reminders, a reading goes on the odometer, and a calendar address is
// made, shown once, and revoked.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { callApi, launchBrowser, shot, signIn, startServer } from "./server.mjs";

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

const call = (method, path, body) => callApi(server.base, method, path, body);

/** `days` from today, as the API writes dates. */
const day = (days) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);

test("a service marked as done leaves the overview's reminders", async () => {
  const garage = (await call("POST", "/garages", { name: "Dépôt Lyon", address: "1 quai Perrache" })).id;
  const car = (
    await call("POST", "/vehicles", {
      garage_id: garage,
      license_plate: "CA-101-RE",
      brand: "Renault",
      model: "Kangoo",
      year: 2021,
    })
  ).id;
  const other = (
    await call("POST", "/vehicles", {
      garage_id: garage,
      license_plate: "CA-202-RE",
      brand: "Peugeot",
      model: "Partner",
      year: 2020,
    })
  ).id;
  await call("POST", `/vehicles/${car}/odometer`, { km: 14_700 });
  // Due by distance: 15,000 km from the last service at 0.
  await call("PUT", `/vehicles/${car}/plans/service`, {
    every_km: 15_000,
    last_done_on: day(-300),
    last_done_km: 0,
  });
  // Insurance ran out two days ago.
  await call("PUT", `/vehicles/${other}/plans/insurance`, { due_on: day(-2), every_months: 12 });

  const context = await browser.newContext({ locale: "fr-FR", viewport: { width: 1100, height: 900 } });
  const page = await context.newPage();
  await page.goto(server.base);
  const due = page.locator("section.due");
  await due.getByRole("heading", { name: "Échéances proches ou dépassées" }).waitFor();
  const rows = due.locator("tbody tr");
  await rows.first().waitFor();
  assert.deepEqual(await rows.evaluateAll((trs) => trs.map((tr) => tr.dataset.status)), [
    "overdue",
    "due_soon",
  ]);
  assert.match(await rows.nth(0).innerText(), /CA-202-RE[\s\S]*Assurance[\s\S]*Dépassée/);
  assert.match(await rows.nth(1).innerText(), /CA-101-RE[\s\S]*Révision[\s\S]*15\s000 km[\s\S]*Bientôt/);
  await shot(page, "care-overview");

  // To the vehicle's care, from the reminder.
  await rows.nth(1).getByRole("link", { name: "CA-101-RE" }).click();
  const care = page.locator("#care");
  await care.getByRole("heading", { name: "Entretien", exact: true }).waitFor();
  assert.match(await care.getByTestId("odometer").innerText(), /14\s700 km/);
  const service = care.locator('tr[data-kind="service"]');
  assert.match(await service.innerText(), /Bientôt/);
  await service.getByRole("button", { name: "Révision : marquer fait" }).click();
  const form = care.getByRole("form", { name: "Révision faite" });
  await form.getByLabel("Compteur alors (km)").fill("14800");
  await form.getByLabel("Note").fill("Vidange, filtres");
  await form.getByRole("button", { name: "Enregistrer comme fait" }).click();
  await service.getByText("À jour").waitFor();
  assert.match(await service.innerText(), /29\s800 km/);
  await care.getByRole("cell", { name: "Vidange, filtres" }).waitFor();
  // The vehicle's history tells it, by whom.
  await page.locator('[data-event-type="care.done"]').getByText("Révision : fait").waitFor();

  // A reading: the odometer shows it, and a lower one is refused in words.
  await care.getByLabel("Relevé (km)").fill("14900");
  await care.getByRole("button", { name: "Enregistrer le relevé" }).click();
  await care
    .getByTestId("odometer")
    .getByText(/14\s900 km/)
    .waitFor();
  await care.getByLabel("Relevé (km)").fill("100");
  await care.getByRole("button", { name: "Enregistrer le relevé" }).click();
  await care.getByRole("alert").waitFor();
  await shot(page, "care-vehicle");

  // The form above, read before those readings, still saves: a reading
  // changes nothing it shows.
  await page.getByLabel("Modèle", { exact: true }).fill("Kangoo Van");
  await page.getByRole("button", { name: "Enregistrer", exact: true }).click();
  await page.getByText("Véhicule enregistré.").waitFor();
  assert.equal((await call("GET", `/vehicles/${car}`)).model, "Kangoo Van");

  // Back on the overview, only the insurance is left.
  await page.goto(server.base);
  await due.locator("tbody tr").first().waitFor();
  assert.equal(await due.locator("tbody tr").count(), 1);
  assert.match(await due.locator("tbody tr").first().innerText(), /CA-202-RE/);
  await context.close();
});

test("a calendar address is made with a named key, shown once, works, and is revoked", async () => {
  const context = await browser.newContext({ locale: "en-GB", viewport: { width: 390, height: 844 } });
  const page = await context.newPage();
  // Without a named key, no address: it would outlive whoever made it.
  await page.goto(`${server.base}/reminders`);
  await page.getByText(/sign in with a named key to make one/).waitFor();
  assert.equal(await page.getByRole("button", { name: "Make an address" }).count(), 0);

  const bootstrap = "care-browser-bootstrap-0123456789";
  const keyed = await startServer({ APP__AUTH__API_KEYS: bootstrap });
  try {
    const made = await fetch(`${keyed.base}/api/v1/keys`, {
      method: "POST",
      headers: { authorization: `Bearer ${bootstrap}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "atelier", scope: "write" }),
    });
    assert.equal(made.status, 201);
    const { secret } = await made.json();
    await page.goto(`${keyed.base}/reminders`);
    await signIn(page, secret);
    await calendarRoundTrip(page);
  } finally {
    await keyed.stop();
  }
  await context.close();
});

/** Makes an address on the reminders page, fetches it, and revokes it. */
async function calendarRoundTrip(page) {
  await page.getByRole("heading", { name: "Calendar subscriptions" }).waitFor();
  await page.getByLabel("Name").fill("Workshop");
  await page.getByRole("button", { name: "Make an address" }).click();
  const address = await page.getByLabel("Calendar address").inputValue();
  assert.match(address, /^http:\/\/127\.0\.0\.1:\d+\/api\/v1\/reminders\.ics\?token=cal_/);
  const feed = await fetch(address);
  assert.equal(feed.status, 200);
  assert.match(await feed.text(), /BEGIN:VCALENDAR/);
  // No horizontal scroll on a phone.
  const wide = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
  assert.equal(wide, false);
  await shot(page, "care-calendar");
  await page.getByRole("button", { name: "I have copied it" }).click();
  page.once("dialog", (dialog) => dialog.accept());
  await page
    .getByRole("row", { name: /Workshop/ })
    .getByRole("button", { name: "Revoke" })
    .click();
  await page.getByText("No calendar subscribed yet.").waitFor();
  assert.equal((await fetch(address)).status, 404);
}
