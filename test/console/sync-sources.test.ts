/**
 * A sync that pulls Stripe, added and watched in the console against the Stripe emulator: a revoked key is
 * refused with Stripe's reason under the key, every other field kept and the key asked for again; a good
 * key saves the sync and its page shows each collection backfilling to live with the emulator's record
 * counts; Pause holds new objects back until Resume; Re-read everything asks first, then is under way.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Page } from "playwright-core";
import { type CollectionName, startStripeEmulator } from "../emulators/stripe/index.js";
import { launchBrowser, openPage, screenshot, signIn } from "../helpers/browser.js";
import { waitFor } from "../helpers/wait.js";
import { startConsoleService } from "./console-service.js";
import { collectionRows } from "./sync-page.js";

const emulator = await startStripeEmulator({ rateLimitPerSecond: 100 });
const api = await startConsoleService();
const browser = await launchBrowser();
const baseUrl = `http://${emulator.host}:${emulator.port}`;

/** Every collection the form offers for Stripe, with the emulator's list it comes from. */
const offered: Record<string, CollectionName> = {
  customer: "customers",
  product: "products",
  price: "prices",
  subscription: "subscriptions",
  invoice: "invoices",
  charge: "charges",
  payment_intent: "payment_intents",
};
/** Left unchecked in the form: never pulled. */
const skipped = "charge";

/** The emulator's live objects per pulled collection. */
function expectedCounts(): Record<string, number> {
  return Object.fromEntries(
    Object.entries(offered)
      .filter(([collection]) => collection !== skipped)
      .map(([collection, list]) => [collection, emulator.all(list).length]),
  );
}

/** Waits until every collection row is live with the emulator's counts; says what differs if it never is. */
async function waitLiveMatching(page: Page, what: string) {
  let last = "";
  await waitFor(
    what,
    async () => {
      const rows = await collectionRows(page);
      const shown = Object.fromEntries(rows.map((r) => [r.collection, r.records]));
      last = JSON.stringify(rows.map((r) => [r.collection, r.state, r.records]));
      const live = rows.every((r) => r.state === "live" && r.backfill.startsWith("done"));
      try {
        assert.deepEqual(shown, expectedCounts());
      } catch {
        return false;
      }
      return live;
    },
    30_000,
  ).catch((error: Error) => {
    throw new Error(
      `${error.message}: the page shows ${last}, Stripe has ${JSON.stringify(expectedCounts())}`,
    );
  });
}

async function syncsNamed(name: string) {
  const list = (await api.request("GET", "/v1/syncs")).body.data as { id: string; name: string }[];
  return list.filter((s) => s.name === name);
}

test("add a Stripe sync: a revoked key is refused with Stripe's reason; then it backfills to live, pauses, resumes", async () => {
  const customers = Array.from({ length: 24 }, (_, i) =>
    emulator.create("customers", { email: `c${i}@example.com`, name: `Customer ${i}` }),
  );
  const products = Array.from({ length: 4 }, (_, i) => emulator.create("products", { name: `Product ${i}` }));
  emulator.create("prices", { product: products[0]!.id, unit_amount: 1200, currency: "usd" });
  emulator.create("prices", { product: products[1]!.id, unit_amount: 900, currency: "eur" });
  emulator.create("charges", { customer: customers[0]!.id, amount: 500, currency: "usd" });

  const { page, assertNoErrors } = await openPage(browser, api.url);
  await signIn(page, api.token);
  await page.getByRole("link", { name: "Syncs" }).click();
  await page.getByRole("link", { name: "Add sync" }).click();
  await page.waitForURL(/\/console\/syncs\/new$/);

  // Stripe is offered to pull, with every collection it has checked
  assert.equal(await page.locator("#provider-choice-stripe").isChecked(), true);
  for (const collection of Object.keys(offered))
    assert.equal(await page.locator(`#collection-${collection}`).isChecked(), true, collection);

  const revoked = emulator.createKey();
  emulator.revokeKey(revoked);
  await page.getByLabel("Name", { exact: true }).fill("stripe-console");
  await page.getByLabel("API key", { exact: true }).fill(revoked);
  await page.locator(`#collection-${skipped}`).uncheck();
  await page.locator("details summary", { hasText: "Advanced" }).click();
  await page.getByLabel("Base URL", { exact: true }).fill(baseUrl);
  await page.getByLabel("Max requests per second", { exact: true }).fill("40");
  await page.getByLabel("Poll interval (seconds)", { exact: true }).fill("0.25");
  const submit = page.getByRole("button", { name: "Try the credential and add sync" });
  await submit.click();

  // Stripe's own reason, under the key
  const refusal = page.locator("#error-source-credentials-api_key");
  await refusal.filter({ hasText: "Invalid API Key provided" }).waitFor();
  assert.match((await refusal.textContent()) ?? "", /^stripe refused it: .*Invalid API Key provided/);
  assert.doesNotMatch(await page.content(), new RegExp(revoked), "the key is never sent back");
  // everything else kept; the key empty, required, and the form says to type it again
  for (const [label, value] of [
    ["Name", "stripe-console"],
    ["Base URL", baseUrl],
    ["Max requests per second", "40"],
    ["Poll interval (seconds)", "0.25"],
  ] as const)
    assert.equal(await page.getByLabel(label, { exact: true }).inputValue(), value, label);
  for (const collection of Object.keys(offered))
    assert.equal(
      await page.locator(`#collection-${collection}`).isChecked(),
      collection !== skipped,
      collection,
    );
  assert.equal(await page.locator("#provider-choice-stripe").isChecked(), true);
  const key = page.getByLabel("API key", { exact: true });
  assert.equal(await key.inputValue(), "");
  assert.equal(await key.getAttribute("required"), "");
  await page
    .locator("#note-field-source-credentials-api_key")
    .filter({ hasText: "Type the API key again: it is never sent back to the browser." })
    .waitFor();
  assert.deepEqual(await syncsNamed("stripe-console"), [], "nothing saved on a refusal");
  await screenshot(page, "sync-refused", "#sync-form");

  // a good key: saved, and its page shows the collections backfilling to live with Stripe's counts
  await key.fill(emulator.apiKey);
  await submit.click();
  await page.waitForURL(/\/console\/syncs\/[0-9a-f-]{36}$/);
  const [sync] = await syncsNamed("stripe-console");
  assert.ok(sync);
  await waitLiveMatching(page, "every collection live with Stripe's counts");
  await page.locator('#sync-status [data-state="live"]').waitFor();
  await page.locator('#sync-status [data-health="healthy"]').waitFor();
  const rows = await collectionRows(page);
  assert.deepEqual(rows.map((r) => r.collection).sort(), Object.keys(expectedCounts()).sort());
  assert.equal(
    rows.find((r) => r.collection === "customer")?.records,
    24,
    "the customers the emulator has, as the page shows them",
  );
  assert.ok(
    rows.every((r) => r.lastPolled !== "not yet"),
    "each live collection was polled",
  );
  assert.notEqual(await page.locator('[data-stat="worker"]').textContent(), "none right now");
  await screenshot(page, "sync-live");

  // Pause: new customers stay out of the stream until Resume
  let asked = "";
  page.once("dialog", (dialog) => {
    asked = dialog.message();
    return dialog.accept();
  });
  await page.getByRole("button", { name: "Pause" }).click();
  await page.locator('#sync-status [data-state="paused"]').waitFor();
  assert.match(asked, /Pause “stripe-console”/);
  assert.equal((await api.request("GET", `/v1/syncs/${sync.id}`)).body.source.state, "paused");
  const requestsAtPause = emulator.requests.length;
  for (let i = 0; i < 3; i++) emulator.create("customers", { email: `late${i}@example.com` });
  // many poll intervals (0.25 s) and a refresh of the page
  await page.waitForTimeout(2_500);
  const whilePaused = await collectionRows(page);
  assert.equal(
    whilePaused.find((r) => r.collection === "customer")?.records,
    24,
    "nothing pulled while paused",
  );
  assert.ok(emulator.requests.length - requestsAtPause <= 2, "Stripe is not asked while paused");
  await screenshot(page, "sync-paused");

  page.once("dialog", (dialog) => dialog.accept());
  await page.getByRole("button", { name: "Resume" }).click();
  await page.getByRole("button", { name: "Pause" }).waitFor();
  await waitLiveMatching(page, "the customers added while paused, after Resume");
  assert.equal((await collectionRows(page)).find((r) => r.collection === "customer")?.records, 27);

  // the syncs list shows the source's state
  await page.getByRole("link", { name: "Syncs", exact: true }).click();
  await page.locator(`#sync-${sync.id} [data-source-state="live"] [data-state="live"]`).waitFor();
  await page.locator(`#sync-${sync.id} h2 a`).click();
  await page.waitForURL(new RegExp(`/console/syncs/${sync.id}$`));

  // Re-read everything: asked to confirm, then the service is reading everything again, and says why
  page.once("dialog", (dialog) => {
    asked = dialog.message();
    return dialog.accept();
  });
  await page.getByRole("button", { name: "Re-read everything" }).click();
  await page
    .locator("#sync-live .alert.info")
    .filter({ hasText: "Reading everything again (asked for)" })
    .waitFor();
  assert.match(asked, /Read everything of “stripe-console” from stripe again/);
  // 27 objects read again unchanged add no version: the re-read may already be over when the API is asked
  const rebackfill = (await api.request("GET", `/v1/syncs/${sync.id}`)).body.source.rebackfill;
  assert.ok(rebackfill === "asked for" || rebackfill === null, `rebackfill: ${rebackfill}`);
  assert.equal(await page.locator("#flash .alert").count(), 0, "no refusal");
  assertNoErrors();
});

test("a provider without a built-in source is added as a pushed sync", async () => {
  const { page, assertNoErrors } = await openPage(browser, api.url);
  await signIn(page, api.token);
  await page.goto("/console/syncs/new");
  await page.getByLabel("Name", { exact: true }).fill("crm-pushed");
  await page.locator("#provider-choice-push").check();
  await page.getByLabel("Provider", { exact: true }).fill("hubspot");
  assert.equal(await page.getByLabel("API key", { exact: true }).count(), 0, "no Stripe credential asked");
  await page.getByLabel("Collections", { exact: true }).fill("contacts, deals");
  await page.getByRole("button", { name: "Add sync", exact: true }).click();
  await page.waitForURL(/\/console\/syncs\/[0-9a-f-]{36}$/);
  const [sync] = await syncsNamed("crm-pushed");
  assert.ok(sync);
  const saved = (await api.request("GET", `/v1/syncs/${sync.id}`)).body;
  assert.equal(saved.provider, "hubspot");
  assert.deepEqual(saved.collections, ["contacts", "deals"]);
  assert.equal(saved.source, undefined);
  await page.locator('#sync-live tr[data-collection="deals"]').waitFor();
  assertNoErrors();
});

test("a key revoked later: the sync page shows it failing, unhealthy, Stripe's reason and since when", async () => {
  const key = emulator.createKey();
  const created = await api.request("POST", "/v1/syncs", {
    body: {
      name: "stripe-revoked-later",
      provider: "stripe",
      collections: ["customer"],
      source: { credentials: { api_key: key }, base_url: baseUrl, poll_interval_seconds: 0.25 },
    },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const { page, assertNoErrors } = await openPage(browser, api.url);
  await signIn(page, api.token);
  await page.goto(`/console/syncs/${created.body.id}`);
  await page.locator('#sync-status [data-state="live"]').waitFor({ timeout: 20_000 });
  await page.locator('[data-last-error="no"]').waitFor();

  emulator.revokeKey(key);
  await page.locator('#sync-status [data-state="failing"]').waitFor({ timeout: 20_000 });
  await page.locator('#sync-status [data-health="unhealthy"]').waitFor();
  const lastError = page.locator('[data-last-error="yes"]');
  await lastError.filter({ hasText: "Invalid API Key provided" }).waitFor();
  const since = (await lastError.locator('[data-fact="failing-since"]').textContent()) ?? "";
  const failingSince = (await api.request("GET", `/v1/syncs/${created.body.id}`)).body.source.failing_since;
  assert.ok(failingSince, "the service says since when");
  assert.ok(since.startsWith(failingSince), `"${since}" starts with ${failingSince}`);
  assert.doesNotMatch(await page.content(), new RegExp(key), "the key is never shown");
  await screenshot(page, "sync-failing");

  await page.getByRole("link", { name: "Syncs", exact: true }).click();
  await page
    .locator(`#sync-${created.body.id} [data-source-state="failing"] [data-health="unhealthy"]`)
    .waitFor();
  assertNoErrors();
});
