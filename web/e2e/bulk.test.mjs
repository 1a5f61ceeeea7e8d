// Bulk import and export, VINs, and two editors of one vehicle, in a real
// browser against the real binary.

import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { after, before, test } from "node:test";

import { launchBrowser, shot, startServer } from "./server.mjs";

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

async function createGarage(name) {
  const response = await fetch(`${server.base}/api/v1/garages`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ name, address: "3 quai des Imports" }),
  });
  assert.equal(response.status, 201);
  return (await response.json()).id;
}

function csvFile(text) {
  return { name: "fleet.csv", mimeType: "text/csv", buffer: Buffer.from(text) };
}

test("vehicles are checked, imported and exported from the browser", async () => {
  const garage = await createGarage("Import hall");
  const context = await browser.newContext({ locale: "en-GB", acceptDownloads: true });
  const page = await context.newPage();
  await page.goto(`${server.base}/garages`);
  await page.getByRole("link", { name: "Import / export" }).click();
  await page.getByRole("heading", { name: "Import and export vehicles" }).waitFor();

  // A file with bad rows: every one is listed with its line, nothing is written.
  const bad = `garage_id,brand,model,year,license_plate,vin\n${garage},Renault,Clio,2020,IM-001,\n${garage},Renault,Clio,1700,IM-002,\n999999,Peugeot,208,2021,IM-003,\n`;
  await page.getByLabel("CSV file").setInputFiles(csvFile(bad));
  await page.getByRole("button", { name: "Import", exact: true }).click();
  await page.getByText("2 problems found: nothing was imported.").waitFor();
  const rows = page.locator("table tbody tr");
  assert.equal(await rows.count(), 2);
  assert.match(await rows.nth(0).innerText(), /3\s+year/);
  assert.match(await rows.nth(1).innerText(), /4\s+garage_id/);
  await shot(page, "import-errors");

  // A good file: checked first (nothing written), then imported.
  const good = `garage_id,brand,model,year,license_plate,vin\n${garage},Renault,Clio,2020,IM-001,vf1rfb00x12345678\n${garage},"Citroën","C4, Cactus",2019,IM-002,\n`;
  await page.getByLabel("CSV file").setInputFiles(csvFile(good));
  await page.getByRole("button", { name: "Check file" }).click();
  await page.getByText("All 2 rows can be imported. Nothing was written yet.").waitFor();
  const listed = await (await fetch(`${server.base}/api/v1/garages/${garage}/vehicles`)).json();
  assert.equal(listed.items.length, 0, "a check writes nothing");
  await page.getByRole("button", { name: "Import", exact: true }).click();
  await page.getByText("2 vehicles imported.").waitFor();

  // The export holds them, in a file the browser saves.
  await page.getByRole("combobox", { name: "Garage" }).fill("import");
  await page.getByRole("option", { name: /Import hall/ }).click();
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("button", { name: "Export CSV" }).click(),
  ]);
  assert.match(download.suggestedFilename(), /^vehicles-\d{4}-\d{2}-\d{2}\.csv$/);
  const text = await readFile(await download.path(), "utf8");
  assert.ok(text.startsWith("\ufeff"), "a byte order mark, for spreadsheets");
  const lines = text.slice(1).trim().split("\n");
  assert.equal(
    lines[0],
    "id,garage_id,garage,brand,model,year,license_plate,vin,registered_on,odometer_km,created_at,updated_at",
  );
  assert.equal(lines.length, 3);
  assert.match(lines[1], /,Import hall,Renault,Clio,2020,IM001,VF1RFB00X12345678,/);
  assert.match(lines[2], /,Import hall,Citroën,"C4, Cactus",2019,IM002,,/);

  // The VIN shows on the garage's page and finds its vehicle.
  await page.goto(`${server.base}/garages/${garage}`);
  await page.getByRole("cell", { name: "VF1RFB00X12345678" }).waitFor();
  await page.getByRole("searchbox", { name: "Find a vehicle by plate or VIN" }).fill("vf1rfb00x12345678");
  await page.getByRole("button", { name: "Find" }).click();
  await page.getByRole("heading", { name: "Vehicle with VIN VF1RFB00X12345678" }).waitFor();
  await page.getByText("IM001").waitFor();
  await context.close();
});

test("the server's refusals of an import read in French, from their codes", async () => {
  const garage = await createGarage("Hall des refus");
  const context = await browser.newContext({ locale: "fr-FR" });
  const page = await context.newPage();
  await page.goto(`${server.base}/vehicles/import-export`);
  await page.getByRole("heading", { name: "Importer et exporter des véhicules" }).waitFor();
  const bad = `garage_id,brand,model,year,license_plate\n${garage},Renault,Clio,1700,RF-001\n999999,Renault,Clio,2020,RF-002\n${garage},Renault,Clio,2020,RF_003\n`;
  await page.getByLabel("Fichier CSV").setInputFiles(csvFile(bad));
  await page.getByRole("button", { name: "Importer", exact: true }).click();
  const rows = page.locator("table tbody tr");
  await rows.nth(2).waitFor();
  const next = new Date().getFullYear() + 1;
  assert.match(await rows.nth(0).innerText(), new RegExp(`2\\s+year\\s+De 1886 à ${next}\\.`));
  assert.match(await rows.nth(1).innerText(), /3\s+garage_id\s+Ce garage n’existe pas \(ou plus\)\./);
  assert.match(await rows.nth(2).innerText(), /4\s+license_plate\s+Pas au format attendu\./);
  const table = await page.locator("table").innerText();
  assert.doesNotMatch(table, /must|does not exist|may contain/, "no English server text");
  await context.close();
});

test("a French Excel file is imported, exported and imported again in upsert mode, nothing duplicated", async () => {
  await createGarage("Dépôt Lyon");
  await createGarage("Atelier Nice");
  const context = await browser.newContext({ locale: "fr-FR", acceptDownloads: true });
  const page = await context.newPage();
  await page.goto(`${server.base}/vehicles/import-export`);
  await page.getByRole("heading", { name: "Importer et exporter des véhicules" }).waitFor();

  // As French Excel saves it: a BOM, ";", French headers, garages by name.
  const excel =
    "\ufeffImmatriculation;Marque;Modèle;Année;Garage;VIN\r\n" +
    "XL-001-AA;Citroën;C3;2021;Dépôt Lyon;\r\n" +
    "XL-002-BB;Renault;Clio; 2019;dépôt lyon;\r\n" +
    "XL-003-CC;Peugeot;208;2022;Atelier Nice;VF3ABCDEF12345678\r\n";
  await page.getByLabel("Fichier CSV").setInputFiles(csvFile(excel));
  await page.getByRole("button", { name: "Importer", exact: true }).click();
  await page.getByText("3 véhicules importés.").waitFor();

  // Exported for Excel: ";" (the French default), a BOM, garage names.
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("button", { name: "Exporter en CSV" }).click(),
  ]);
  const exported = await readFile(await download.path(), "utf8");
  assert.ok(exported.startsWith("\ufeffid;garage_id;garage;brand;"), exported.slice(0, 60));
  assert.match(exported, /;Dépôt Lyon;Citroën;C3;2021;XL001AA;/);
  const plates = () =>
    fetch(`${server.base}/api/v1/vehicles?plate_contains=XL&limit=200`)
      .then((r) => r.json())
      .then((page) => page.items.map((v) => `${v.license_plate} ${v.model}`).sort());
  const before = await plates();
  assert.equal(before.length, 3);
  // The export holds every vehicle (earlier tests' too): each row's plate,
  // and each VIN, is registered.
  const rows = exported.trim().split("\n").slice(1);
  const vins = rows.filter((r) => /;[A-HJ-NPR-Z0-9]{17};/.test(r)).length;

  // The export imported again as it is: refused without upsert…
  await page.getByLabel("Fichier CSV").setInputFiles(csvFile(exported));
  await page.getByRole("button", { name: "Importer", exact: true }).click();
  await page.getByText(`${rows.length + vins} problèmes trouvés : rien n’a été importé.`).waitFor();
  // …then, in upsert mode, nothing changes and nothing is duplicated.
  await page.getByLabel("Mettre à jour les véhicules déjà enregistrés").check();
  await page.getByRole("button", { name: "Importer", exact: true }).click();
  await page.getByText(`Créés : 0 ; mis à jour : 0 ; inchangés : ${rows.length}.`, { exact: true }).waitFor();
  assert.deepEqual(await plates(), before);

  // An edit in the spreadsheet comes back as an update.
  const edited = exported.replace(";C3;2021;", ";C3 Aircross;2021;");
  await page.getByLabel("Fichier CSV").setInputFiles(csvFile(edited));
  // Checked first: it says what the import would do, and does nothing.
  await page.getByRole("button", { name: "Vérifier le fichier" }).click();
  await page
    .getByText(
      `Rien n’a encore été écrit. L’import donnerait : créés : 0 ; mis à jour : 1 ; inchangés : ${rows.length - 1}.`,
    )
    .waitFor();
  assert.deepEqual(await plates(), before);
  await page.getByRole("button", { name: "Importer", exact: true }).click();
  // Exact: the dry run's text above holds this one (getByText ignores case).
  await page
    .getByText(`Créés : 0 ; mis à jour : 1 ; inchangés : ${rows.length - 1}.`, { exact: true })
    .waitFor();
  assert.deepEqual(await plates(), ["XL001AA C3 Aircross", "XL002BB Clio", "XL003CC 208"]);
  await context.close();
});

test("of two people editing one vehicle, the second is told instead of overwriting", async () => {
  const garage = await createGarage("Shared hall");
  const created = await fetch(`${server.base}/api/v1/vehicles`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({
      garage_id: garage,
      brand: "Renault",
      model: "Clio",
      year: 2020,
      license_plate: "ED-001",
    }),
  });
  const { id } = await created.json();
  const context = await browser.newContext({ locale: "en-GB" });
  const [alice, bob] = [await context.newPage(), await context.newPage()];
  for (const page of [alice, bob]) {
    await page.goto(`${server.base}/vehicles/${id}/edit`);
    await page.getByLabel("Model").waitFor();
  }
  await alice.getByLabel("Model").fill("Zoe");
  await alice.getByRole("button", { name: "Save" }).click();
  await alice.waitForURL(`${server.base}/garages/${garage}`);

  await bob.getByLabel("Model").fill("Megane");
  await bob.getByRole("button", { name: "Save" }).click();
  await bob.getByText("Someone else changed this since you opened it.").waitFor();
  const stored = await (await fetch(`${server.base}/api/v1/vehicles/${id}`)).json();
  assert.equal(stored.model, "Zoe", "the first save stands");

  // Reloading shows the other change; saving again then works.
  await bob.getByRole("button", { name: "Reload" }).click();
  await bob.waitForFunction(() => document.querySelector("input[name=model]")?.value === "Zoe");
  await bob.getByLabel("Model").fill("Megane");
  await bob.getByRole("button", { name: "Save" }).click();
  await bob.waitForURL(`${server.base}/garages/${garage}`);
  const saved = await (await fetch(`${server.base}/api/v1/vehicles/${id}`)).json();
  assert.equal(saved.model, "Megane");
  await context.close();
});
