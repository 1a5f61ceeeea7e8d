// The garage picker at fleet scale, and emptying a depot at once: 250
// garages, one picked by typing and the keyboard; garages without room
// listed but refused, with the reason; every vehicle moved in one go.

import assert from "node:assert/strict";
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

const api = (method, path, body) => callApi(server.base, method, path, body);

const car = (garage_id, license_plate) => ({
  garage_id,
  license_plate,
  brand: "Renault",
  model: "Kangoo",
  year: 2021,
});

test("garage #230 of 250 is picked by typing, full ones are refused with the reason, a depot is emptied at once", async () => {
  const ids = [];
  for (let n = 1; n <= 250; n++) {
    const name = `Dépôt ${String(n).padStart(3, "0")}`;
    const capacity = n === 240 ? 1 : n === 5 ? 3 : null;
    ids.push((await api("POST", "/garages", { name, address: `${n} rue des Docks`, capacity })).id);
  }
  const hangar = (await api("POST", "/garages", { name: "Hangar Central", address: "1 quai" })).id;
  await api("POST", "/vehicles", car(ids[239], "FU-240-LL"));
  await api("POST", "/vehicles", car(ids[4], "CI-005-NQ"));
  const moving = [];
  for (const plate of ["MV-001-AA", "MV-002-BB", "MV-003-CC"]) {
    moving.push((await api("POST", "/vehicles", car(ids[0], plate))).id);
  }

  const context = await browser.newContext({ locale: "fr-FR", viewport: { width: 1000, height: 800 } });
  const page = await context.newPage();
  await page.goto(`${server.base}/vehicles/${moving[0]}/edit`);
  const picker = page.getByRole("combobox", { name: "Garage" });
  await picker.waitFor();
  // The garage's name arrives after the vehicle.
  await page.waitForFunction(() => document.querySelector("#vehicle-garage")?.value !== "");
  assert.equal(await picker.inputValue(), "Dépôt 001");

  // A full garage is listed, disabled, with why; Enter does not take it.
  await picker.fill("240");
  const full = page.getByRole("option", { name: /Dépôt 240/ });
  await full.waitFor();
  assert.equal(await full.getAttribute("aria-disabled"), "true");
  assert.match(await full.innerText(), /complet/);
  await picker.press("Enter");
  assert.equal(await picker.getAttribute("aria-expanded"), "true");

  // Garage #230, far past any first page, found by typing and taken by keyboard.
  await picker.fill("depot 230");
  const wanted = page.getByRole("option", { name: /Dépôt 230/ });
  await wanted.waitFor();
  const options = page.getByRole("listbox", { name: "Garage" }).getByRole("option");
  await eventually(() => options.allInnerTexts(), ["Dépôt 230\nsans limite"]);
  await shot(page, "garage-picker");
  const activeId = await picker.getAttribute("aria-activedescendant");
  assert.equal(activeId, await wanted.getAttribute("id"));
  await picker.press("Enter");
  assert.equal(await picker.getAttribute("aria-expanded"), "false");
  assert.equal(await picker.inputValue(), "Dépôt 230");
  await page.getByRole("button", { name: "Enregistrer", exact: true }).click();
  await page.getByRole("heading", { name: "Dépôt 230" }).waitFor();
  assert.equal((await api("GET", `/vehicles/${moving[0]}`)).garage_id, ids[229]);

  // Back in depot 001 with the two others, then all three moved at once.
  await api("PATCH", `/vehicles/${moving[0]}`, { garage_id: ids[0] });
  await page.goto(`${server.base}/garages/${ids[0]}`);
  await page.getByRole("heading", { name: "Déplacer tous les véhicules" }).waitFor();
  const target = page.getByRole("combobox", { name: "Vers le garage" });
  await target.fill("005");
  const small = page.getByRole("option", { name: /Dépôt 005/ });
  await small.waitFor();
  assert.equal(await small.getAttribute("aria-disabled"), "true");
  assert.match(await small.innerText(), /2 places libres seulement/);
  await target.fill("hangar");
  await page.getByRole("option", { name: /Hangar Central/ }).click();
  page.once("dialog", (dialog) => {
    assert.equal(dialog.message(), "Déplacer les 3 véhicules vers « Hangar Central » ?");
    dialog.accept();
  });
  await page.getByRole("button", { name: "Déplacer les 3 véhicules" }).click();
  await page.getByText("3 véhicules déplacés vers « Hangar Central ».").waitFor();
  await page.getByText("Ce garage n’abrite encore aucun véhicule.").waitFor();
  const moved = await api("GET", `/garages/${hangar}/vehicles`);
  assert.deepEqual(moved.items.map((v) => v.license_plate).sort(), ["MV001AA", "MV002BB", "MV003CC"]);
  await context.close();
});
