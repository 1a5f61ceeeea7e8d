// Signing in with a key, managing keys as an administrator, and a read-only
// key that sees no write buttons; an open server shows no sign-in at all.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { launchBrowser, shot, signIn, startServer } from "./server.mjs";

const KEY = "browser-test-key-0123456789";
// SCREENSHOTS=dir saves the keys page there.
let server;
let browser;

before(async () => {
  server = await startServer({ APP__AUTH__API_KEYS: KEY });
  browser = await launchBrowser();
  const created = await fetch(`${server.base}/api/v1/garages`, {
    method: "POST",
    headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
    body: JSON.stringify({ name: "Dépôt Nord", address: "1 quai des Clés, Lille" }),
  });
  assert.equal(created.status, 201);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test("an administrator signs in, gives out a read-only key, and revokes it", async () => {
  const context = await browser.newContext({ locale: "en-GB" });
  const page = await context.newPage();
  page.on("dialog", (d) => d.accept());
  await page.goto(`${server.base}/garages`);
  await page.getByRole("link", { name: "Dépôt Nord" }).waitFor();
  await page.getByRole("button", { name: "Sign in" }).waitFor();
  assert.equal(
    await page.getByRole("link", { name: "New garage" }).count(),
    0,
    "a reader without a key sees no write button",
  );

  await signIn(page, "gar_not-a-key");
  await page.getByText("This key is not valid").waitFor();
  await page.getByRole("dialog").getByLabel("API key").fill(KEY);
  await page.getByRole("dialog").getByRole("button", { name: "Sign in" }).click();
  await page.getByText("Signed in as configured key #1").waitFor();
  await page.getByRole("link", { name: "New garage" }).waitFor();

  await page.getByRole("link", { name: "API keys" }).click();
  await page.getByLabel("Name (who will use it)").fill("Tableau de bord");
  await page.getByLabel("Rights").selectOption("read");
  await page.getByRole("button", { name: "Create key" }).click();
  await page.getByText("Copy it now: it will not be shown again").waitFor();
  const secret = await page.locator("#once-secret").inputValue();
  await shot(page, "keys");
  assert.match(secret, /^gar_[A-Za-z0-9_-]{43}$/);
  await page.getByRole("button", { name: "I have copied it" }).click();
  assert.equal(await page.locator("#once-secret").count(), 0, "the secret is gone from the page");
  const row = page.getByRole("row", { name: /Tableau de bord/ });
  await row.getByText("Never").waitFor();
  await row.getByText("read", { exact: true }).waitFor();

  await page.getByRole("button", { name: "Sign out" }).click();
  await signIn(page, secret);
  await page.getByText("Signed in as Tableau de bord").waitFor();
  await page.goto(`${server.base}/garages`);
  await page.getByRole("link", { name: "Dépôt Nord" }).waitFor();
  await page.getByText("Signed in as Tableau de bord").waitFor();
  assert.equal(
    await page.getByRole("link", { name: "New garage" }).count(),
    0,
    "a read key sees no write button",
  );
  assert.equal(await page.getByRole("link", { name: "API keys" }).count(), 0);
  await page.goto(`${server.base}/vehicles/import-export`);
  await page.getByRole("heading", { name: "Export", exact: true }).waitFor();
  await page.getByText("Signed in as Tableau de bord").waitFor();
  assert.equal(await page.getByRole("heading", { name: "Import", exact: true }).count(), 0);

  await page.getByRole("button", { name: "Sign out" }).click();
  await signIn(page, KEY);
  await page.getByRole("link", { name: "API keys" }).click();
  await page.getByRole("button", { name: "Revoke Tableau de bord" }).click();
  await page.getByText("Key “Tableau de bord” revoked.").waitFor();
  const refused = await fetch(`${server.base}/api/v1/garages`, {
    headers: { authorization: `Bearer ${secret}` },
  });
  assert.equal(refused.status, 401, "a revoked key is refused");
  await context.close();
});

test("a write refused for want of a key says how to sign in, in French too", async () => {
  const context = await browser.newContext({ locale: "fr-FR" });
  const page = await context.newPage();
  await page.goto(`${server.base}/garages/new`);
  await page.getByLabel("Nom").fill("Sans clé");
  await page.getByLabel("Adresse").fill("5 rue des Clés");
  await page.getByRole("button", { name: "Créer le garage" }).click();
  await page.getByText("Il faut une clé d’API : connectez-vous").waitFor();
  assert.equal(await page.getByLabel("Nom").inputValue(), "Sans clé", "what was typed stays");
  await context.close();
});

test("an open server asks for no key", async () => {
  const open = await startServer();
  try {
    const context = await browser.newContext({ locale: "en-GB" });
    const page = await context.newPage();
    await page.goto(`${open.base}/garages`);
    await page.getByRole("link", { name: "New garage" }).waitFor();
    assert.equal(await page.getByRole("button", { name: "Sign in" }).count(), 0);
    await context.close();
  } finally {
    await open.stop();
  }
});
