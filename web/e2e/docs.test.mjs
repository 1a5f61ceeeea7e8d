// The API documentation page renders in a browser from the service alone:
// no request leaves the machine, and the security headers let it run.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { launchBrowser, startServer } from "./server.mjs";

let server;
let browser;

before(async () => {
  server = await startServer({
    APP__AUTH__API_KEYS: "docs-test-key-0123456789",
    APP__AUTH__PROTECT_READS: "true",
  });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test("/docs lists every operation of the OpenAPI document, offline", async () => {
  const page = await browser.newPage();
  const foreign = [];
  const problems = [];
  page.on("request", (request) => {
    if (!request.url().startsWith(server.base)) foreign.push(request.url());
  });
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(message.text());
  });
  await page.goto(`${server.base}/docs`);
  await page.getByText("Garage API").first().waitFor();
  await page.locator(".opblock").first().waitFor();

  const spec = await (await fetch(`${server.base}/api/v1/openapi.json`)).json();
  const operations = Object.values(spec.paths).flatMap((item) => Object.keys(item)).length;
  assert.equal(await page.locator(".opblock").count(), operations);
  await page.getByText("/api/v1/vehicles/import").first().waitFor();
  assert.deepEqual(foreign, [], "the page fetched from outside the service");
  assert.deepEqual(problems, [], "the page logged errors");
});
