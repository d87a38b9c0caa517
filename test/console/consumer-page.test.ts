/**
 * The consumer pages, where new users trip: the filter names its sync, the lag chart starts when the
 * consumer started and shows its alert threshold, a provider is chosen from those the service knows, and a
 * filter that matches no sync or a table that another consumer writes too is a warning wherever the
 * consumer shows.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { launchBrowser, openPage, screenshot, signIn } from "../helpers/browser.js";
import { createSeedTarget } from "../helpers/consumer-world.js";
import { startConsoleService } from "./console-service.js";

const api = await startConsoleService();
const browser = await launchBrowser();
const db = await createSeedTarget();

async function ok(method: string, path: string, body?: unknown) {
  const response = await api.request(method, path, body === undefined ? {} : { body });
  assert.ok(response.status < 300, `${method} ${path}: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body;
}

const target = await ok("POST", "/v1/targets/postgres", {
  name: "app-db",
  connection: {
    host: db.host,
    port: db.port,
    database: db.database,
    username: db.user,
    password: db.password,
    ssl: "disable",
  },
});
const sync = await ok("POST", "/v1/syncs", { name: "acme-crm", provider: "zendesk" });
await ok("POST", `/v1/syncs/${sync.id}/records`, {
  records: Array.from({ length: 20 }, (_, i) => ({
    collection_id: "tickets",
    upstream_id: `t${i}`,
    payload: { n: i },
    upstream_updated_at: new Date(Date.UTC(2024, 0, 1, 0, 0, i)).toISOString(),
  })),
});

test("the consumer page names the sync, plots lag only since the start, and shows the threshold", async () => {
  const consumer = await ok("POST", "/v1/consumers/postgres", {
    name: "tickets",
    target_id: target.id,
    filter: { sync_id: sync.id },
    table: { schema: db.schema, name: "tickets" },
    lag_alert_seconds: 45,
  });
  await db.admin.query(consumer.create_table_sql);
  await db.admin.query(`grant all on all tables in schema ${db.schema} to ${db.user}`);
  // lag recorded before the start (as an older service recorded it for consumers not yet started)
  await api.store.pool.query(
    `insert into sequin_lag_samples (consumer_id, at, records, seconds)
     values ($1, now() - interval '20 minutes', 20, 5000)`,
    [consumer.id],
  );
  await ok("POST", `/v1/consumers/postgres/${consumer.id}/start`);

  const { page, assertNoErrors } = await openPage(browser, api.url);
  await signIn(page, api.token);
  await page.goto(`/console/consumers/${consumer.id}`);
  await page.locator('#consumer-status [data-state="live"]').waitFor({ timeout: 30_000 });
  const filter = page.locator('[data-fact="filter"]');
  await filter.filter({ hasText: "acme-crm" }).waitFor();
  assert.doesNotMatch((await filter.textContent()) ?? "", new RegExp(sync.id));
  await page.locator('[data-fact="lag-threshold"]').filter({ hasText: "older than 45 s" }).waitFor();

  await page.locator(".chart svg polyline").waitFor({ state: "attached", timeout: 30_000 });
  const title = (await page.locator(".chart svg title").textContent()) ?? "";
  assert.doesNotMatch(title, /83 min/, "the sample from before the start is not drawn");
  assert.match(title, /alert after 45 s/);
  const line = page.locator('.chart line.threshold[data-threshold="45"]');
  await line.waitFor({ state: "attached" });
  const y = Number(await line.getAttribute("y1"));
  assert.ok(y > 0 && y < 200, `the threshold line is within the chart (y ${y})`);
  await screenshot(page, "consumer-lag-threshold");
  assertNoErrors();
});

test("providers are a choice; a filter no sync matches and a shared table are warnings", async () => {
  const { page, assertNoErrors } = await openPage(browser, api.url);
  await signIn(page, api.token);
  await page.goto(`/console/consumers/new?target_id=${target.id}`);
  const provider = page.getByLabel("Provider", { exact: true });
  assert.equal(await provider.evaluate((el) => el.tagName), "SELECT", "no free text to mistype");
  const options = await provider
    .locator("option")
    .evaluateAll((all) => all.map((o) => (o as HTMLOptionElement).value).filter(Boolean));
  assert.deepEqual(options, ["github", "hubspot", "salesforce", "stripe", "zendesk"]);
  await page
    .locator('select[name="filter.provider"] option[value="zendesk"]')
    .filter({ hasText: "1 sync" })
    .waitFor({ state: "attached" });
  await provider.selectOption("zendesk");
  await page.getByLabel("Table", { exact: true }).fill("tickets");
  await page.getByLabel("Consumer name", { exact: true }).fill("tickets-again");
  await page.getByRole("button", { name: "Continue: create table statement" }).click();
  await page.waitForURL(/\/setup$/);
  // the table is another consumer's: said on the setup page, in verify and on the consumer's pages
  await page
    .locator('.alert[data-warning="shared_table"]')
    .filter({ hasText: 'Consumer "tickets" writes the same table "sequin"."tickets"' })
    .waitFor();
  await page.getByRole("button", { name: "Verify table" }).click();
  await page.locator('[data-verified="ok"] [data-finding="shared_table"]').waitFor();
  await screenshot(page, "consumer-setup-shared");

  // a typo made through the API: accepted, and warned about in the consumer's notes and in the list
  const typo = await ok("POST", "/v1/consumers/postgres", {
    name: "typo",
    target_id: target.id,
    filter: { provider: "hubspt" },
    table: { schema: db.schema, name: "typo" },
  });
  await page.goto(`/console/consumers/${typo.id}`);
  await page
    .locator("ul.notes li")
    .filter({ hasText: 'No sync matches provider "hubspt" yet' })
    .filter({ hasText: "known providers: github, hubspot, salesforce, stripe, zendesk" })
    .waitFor();
  await page.goto("/console/consumers");
  await page.locator('tr[data-consumer="typo"] [data-warning="no_matching_sync"]').waitFor();
  await page.locator('tr[data-consumer="tickets"] [data-warning="shared_table"]').waitFor();
  await page.locator('tr[data-consumer="tickets-again"] [data-warning="shared_table"]').waitFor();
  assertNoErrors();
});

test("Retry now and Rewrite table on the consumer page", async () => {
  const consumer = await ok("POST", "/v1/consumers/postgres", {
    name: "mended",
    target_id: target.id,
    filter: { sync_id: sync.id },
    table: { schema: db.schema, name: "mended" },
  });
  await db.admin.query(consumer.create_table_sql);
  await db.admin.query(`grant all on all tables in schema ${db.schema} to ${db.user}`);
  await db.admin.query(`alter table ${db.schema}.mended add constraint no_seven check (upstream_id <> 't7')`);
  await ok("POST", `/v1/consumers/postgres/${consumer.id}/start`);

  const { page, assertNoErrors } = await openPage(browser, api.url);
  await signIn(page, api.token);
  await page.goto(`/console/consumers/${consumer.id}`);
  await page.locator('#consumer-status [data-state="failing"]').waitFor({ timeout: 30_000 });
  await db.admin.query(`alter table ${db.schema}.mended drop constraint no_seven`);
  let asked = "";
  page.once("dialog", (dialog) => {
    asked = dialog.message();
    return dialog.accept();
  });
  await page.getByRole("button", { name: "Retry now" }).click();
  await page.locator('#consumer-status [data-state="live"]').waitFor({ timeout: 10_000 });
  assert.match(asked, /tries its write again at once instead of after its backoff/);

  // rows lost by hand come back when the table is rewritten from the stream
  await db.admin.query(`delete from ${db.schema}.mended where upstream_id in ('t1', 't2')`);
  page.once("dialog", (dialog) => dialog.accept());
  await page.getByRole("button", { name: "Rewrite table" }).click();
  await page
    .locator("li")
    .filter({ hasText: "the table was rewritten from the stream" })
    .first()
    .waitFor({ timeout: 30_000 });
  const rows = await db.admin.query(`select count(*)::int as n from ${db.schema}.mended`);
  assert.equal(rows.rows[0].n, 20);
  assertNoErrors();
});
