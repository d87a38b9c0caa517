/**
 * The README's setup guide, clicked through in a real browser: add target → add consumer → run the create statement → verify
 * → start → live with records applied → the target stops: unhealthy and waiting → it starts again:
 * healthy, and the table equals the stream.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import pg from "pg";
import { launchBrowser, openPage, screenshot, signIn } from "../helpers/browser.js";
import { startOwnCluster } from "../helpers/clusters.js";
import { createSeedTarget, tableMatchesStream } from "../helpers/consumer-world.js";
import { startConsoleService } from "./console-service.js";

const api = await startConsoleService();
const browser = await launchBrowser();

function records(from: number, to: number) {
  return Array.from({ length: to - from }, (_, i) => ({
    collection_id: "contacts",
    upstream_id: `c${from + i}`,
    payload: { name: `Contact ${from + i}`, lifecyclestage: i % 3 ? "lead" : "customer" },
    upstream_updated_at: new Date(Date.UTC(2024, 0, 1, 0, 0, from + i)).toISOString(),
  }));
}

test("add target, add consumer, verify, start, see it live, through a target outage", async () => {
  const cluster = await startOwnCluster();
  const target = await createSeedTarget(cluster.url());
  const sync = (
    await api.request("POST", "/v1/syncs", { body: { name: "acme-hubspot", provider: "hubspot" } })
  ).body;
  const ingest = async (from: number, to: number) => {
    const r = await api.request("POST", `/v1/syncs/${sync.id}/records`, {
      body: { records: records(from, to) },
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
  };
  await ingest(0, 200);
  const { page, assertNoErrors } = await openPage(browser, api.url);
  await signIn(page, api.token);

  // Targets → Add target: the setup SQL, then the connection, tried before it is saved
  await page.getByRole("link", { name: "Targets" }).click();
  await page.getByRole("link", { name: "Add target" }).first().click();
  await page.locator("#setup-sql-text").filter({ hasText: "grant usage, create on schema" }).waitFor();
  await page.locator("#setup-database").fill(target.database);
  await page
    .locator("#setup-sql-text")
    .filter({ hasText: `on database "${target.database}"` })
    .waitFor();
  await page.getByLabel("Name", { exact: true }).fill("app-db");
  await page.getByLabel("Host", { exact: true }).fill(target.host);
  await page.getByLabel("Port", { exact: true }).fill(String(target.port));
  await page.getByLabel("Database", { exact: true }).fill(target.database);
  await page.getByLabel("User", { exact: true }).fill(target.user);
  await page.getByLabel("Password", { exact: true }).fill(target.password);
  await page.getByLabel("TLS", { exact: true }).selectOption("disable");
  await screenshot(page, "target-new");
  await page.getByRole("button", { name: "Test connection and add target" }).click();
  await page.waitForURL(/\/console\/targets\?added=/);
  await page.getByRole("button", { name: "Test connection" }).click();
  await page.locator('[data-test="ok"]').waitFor();
  await screenshot(page, "targets");

  // Add consumer: target (preselected by the link), filter by provider, schema and table
  await page.getByRole("link", { name: "add a consumer" }).click();
  await page.getByLabel("Provider", { exact: true }).selectOption("hubspot");
  await page.getByLabel("Table", { exact: true }).fill("crm_records");
  await page.getByLabel("Consumer name", { exact: true }).fill("crm");
  await screenshot(page, "consumer-new");
  await page.getByRole("button", { name: "Continue: create table statement" }).click();
  await page.waitForURL(/\/setup$/);

  // verify before the table exists: each problem with its fix
  await page.getByRole("button", { name: "Verify table" }).click();
  await page.locator('[data-verified="problems"]').waitFor();
  await screenshot(page, "consumer-verify");
  // run the create statement shown, as the least-privilege user (the copy button works, or selects the text)
  await page.locator("#create-table-sql + button.copy").click();
  await page
    .locator("#create-table-sql + button.copy")
    .filter({ hasText: /Copied|Selected/ })
    .waitFor();
  const statement = (await page.locator("#create-table-sql").textContent()) ?? "";
  assert.match(statement, /create table "sequin"\."crm_records"/);
  const client = new pg.Client({
    host: target.host,
    port: target.port,
    database: target.database,
    user: target.user,
    password: target.password,
  });
  await client.connect();
  await client.query(statement);
  await client.end();
  await page.getByRole("button", { name: "Verify table" }).click();
  await page.locator('[data-verified="ok"]').waitFor();
  await screenshot(page, "consumer-setup");

  // start: live, every record applied, the lag chart drawn
  await page.getByRole("button", { name: "Start consumer" }).click();
  await page.waitForURL(/\/console\/consumers\/[0-9a-f-]{36}$/);
  const status = page.locator("#consumer-status");
  await status.locator('[data-state="live"]').waitFor({ timeout: 30_000 });
  await page.locator('[data-stat="upserted"]').filter({ hasText: /^200$/ }).waitFor({ timeout: 30_000 });
  await ingest(200, 260);
  await page.locator('[data-stat="upserted"]').filter({ hasText: /^260$/ }).waitFor({ timeout: 30_000 });
  await page.locator(".chart svg polyline").waitFor({ state: "attached" });
  assert.ok(Number(await page.locator(".chart").getAttribute("data-samples")) >= 1, "lag samples drawn");
  await status.locator('[data-health="healthy"]').waitFor();
  await screenshot(page, "consumer-live");
  // responsive: on a phone's width nothing overflows sideways
  await page.setViewportSize({ width: 390, height: 844 });
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 390), "no horizontal scroll");
  await screenshot(page, "consumer-live-phone");
  await page.setViewportSize({ width: 1280, height: 800 });

  await page.getByRole("link", { name: "Consumers" }).click();
  const row = page.locator('tr[data-consumer="crm"]');
  await row.locator('[data-state="live"]').waitFor();
  await row.locator('[data-health="healthy"]').waitFor();
  await screenshot(page, "consumers");

  // the target stops: unhealthy, waiting for it, with a note naming it
  await row.getByRole("link", { name: "crm" }).click();
  await cluster.stop();
  await status.locator('[data-state="waiting_for_target"]').waitFor({ timeout: 30_000 });
  await status.locator('[data-health="unhealthy"]').waitFor();
  await page.locator('[data-check="target_reachable"][data-check-status="unhealthy"]').waitFor();
  await page.locator("ul.notes").filter({ hasText: 'Waiting for target "app-db"' }).waitFor();
  await ingest(260, 300);
  await page.locator('[data-stat="lag"]').filter({ hasText: /^40$/ }).waitFor();
  await screenshot(page, "consumer-unhealthy");

  // the list shows it too, and refreshes by itself when the target starts again: healthy, caught up
  await page.getByRole("link", { name: "Consumers" }).click();
  await row.locator('[data-state="waiting_for_target"]').waitFor();
  await row.locator('[data-health="unhealthy"]').waitFor();
  await cluster.start();
  await row.locator('[data-health="healthy"]').waitFor({ timeout: 60_000 });
  await row.locator('[data-state="live"]').waitFor({ timeout: 60_000 });
  await row.getByRole("link", { name: "crm" }).click();
  await page.locator('[data-stat="upserted"]').filter({ hasText: /^300$/ }).waitFor({ timeout: 60_000 });
  const diff = await tableMatchesStream(api.store.pool, target.admin, "sequin.crm_records", {
    provider: "hubspot",
  });
  assert.deepEqual(diff, { missing: [], extra: [], stale: [] });
  assertNoErrors();
});
