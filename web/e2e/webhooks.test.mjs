// An administrator registers a webhook endpoint in the browser, copies its
// secret once, sends a test, and watches the delivery fail, then succeed.

import assert from "node:assert/strict";
import { createServer } from "node:http";
import { after, before, test } from "node:test";

import { launchBrowser, signIn, startServer } from "./server.mjs";

const KEY = "webhooks-browser-key-0123456789";
let server;
let browser;
let receiver;
const received = [];

before(async () => {
  // A receiver on loopback: the first message fails, the next ones pass.
  receiver = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      received.push({ id: req.headers["webhook-id"], body: JSON.parse(body) });
      res.writeHead(received.length === 1 ? 500 : 204).end();
    });
  });
  await new Promise((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  server = await startServer({
    APP__AUTH__API_KEYS: KEY,
    APP__WEBHOOKS__ALLOW_PRIVATE_TARGETS: "true",
    APP__WEBHOOKS__BACKOFF_SCALE: "0.01",
    APP__WEBHOOKS__POLL_INTERVAL_MS: "100",
  });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  receiver?.close();
});

test("an endpoint is added, its secret shown once, and a test delivered after a retry", async () => {
  const context = await browser.newContext({ locale: "en-GB" });
  const page = await context.newPage();
  await page.goto(`${server.base}/garages`);
  await signIn(page, KEY);
  await page.getByRole("link", { name: "Webhooks" }).click();

  const url = `http://127.0.0.1:${receiver.address().port}/hook`;
  await page.getByLabel("URL (https://)").fill(url);
  await page.getByRole("button", { name: "Add endpoint" }).click();
  await page.getByText("Copy it now: it will not be shown again").waitFor();
  assert.match(await page.locator("#once-secret").inputValue(), /^whsec_/);
  await page.getByRole("button", { name: "I have copied it" }).click();
  assert.equal(await page.locator("#once-secret").count(), 0, "the secret is gone from the page");

  const endpoint = page.getByRole("article", { name: url });
  await endpoint.getByText("Enabled").waitFor();
  await endpoint.getByRole("button", { name: "Send a test" }).click();
  // The deliveries refresh by themselves: failed once, then delivered.
  const row = endpoint.locator("tbody tr").first();
  await row.locator("text=delivered").waitFor({ timeout: 15_000 });
  assert.match(await row.innerText(), /webhook\.test\s+delivered\s+2\s+204/);
  assert.equal(received.length, 2);
  assert.equal(received[0].id, received[1].id, "a retry carries the same webhook-id");
  assert.equal(received[1].body.type, "webhook.test");

  // Disabled by hand, then on again.
  await endpoint.getByRole("button", { name: "Disable" }).click();
  await endpoint.getByText("Disabled: by an administrator").waitFor();
  await endpoint.getByRole("button", { name: "Enable" }).click();
  await endpoint.getByText("Enabled").waitFor();
  await context.close();
});
