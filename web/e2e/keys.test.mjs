// With API keys configured, the UI asks for one only when a write needs it,
// and sends the key entered for the tab.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { launchBrowser, startServer } from "./server.mjs";

const KEY = "browser-test-key-0123456789";
let server;
let browser;

before(async () => {
  server = await startServer({ APP__AUTH__API_KEYS: KEY });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test("a write without a key is refused plainly, and succeeds once a key is entered", async () => {
  const context = await browser.newContext({ locale: "en-GB" });
  const page = await context.newPage();
  await page.goto(`${server.base}/garages/new`);
  await page.getByLabel("Name").fill("Keyed garage");
  await page.getByLabel("Address").fill("5 rue des Clés");
  await page.getByRole("button", { name: "Create garage" }).click();
  await page.getByText("This needs an API key").waitFor();
  assert.equal(await page.getByLabel("Name").inputValue(), "Keyed garage", "what was typed stays");

  await page.getByRole("button", { name: "API key" }).click();
  await page.getByLabel("API key for this tab").fill(KEY);
  await page.getByRole("button", { name: "Use key" }).click();
  await page.getByText("Key in use").waitFor();
  await page.getByRole("button", { name: "Create garage" }).click();
  await page.getByRole("heading", { name: "Keyed garage" }).waitFor();

  // The key lives in this tab only.
  const other = await context.newPage();
  await other.goto(`${server.base}/garages`);
  await other.getByRole("link", { name: "Keyed garage" }).waitFor();
  assert.equal(await other.getByText("Key in use").count(), 0);
  await context.close();
});
