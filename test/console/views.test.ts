/**
 * The consumer page's typed views panel in a real browser: per collection, Generate SQL shows the view's
 * statement with its columns and misfits; the copy button copies exactly that statement, which runs in the
 * target as copied; the statement stays while the page refreshes; "Create the view" creates it; on a
 * phone's width nothing overflows sideways.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import pg from "pg";
import { launchBrowser, openPage, screenshot, signIn } from "../helpers/browser.js";
import { onCleanup } from "../helpers/cleanup.js";
import { createSeedTarget } from "../helpers/consumer-world.js";
import { waitFor } from "../helpers/wait.js";
import { hubspotContacts } from "../views/provider-payloads.js";
import { startConsoleService } from "./console-service.js";

const api = await startConsoleService();
const browser = await launchBrowser();
const target = await createSeedTarget();
const asUser = new pg.Client({
  host: target.host,
  port: target.port,
  database: target.database,
  user: target.user,
  password: target.password,
});
await asUser.connect();
onCleanup(() => asUser.end());

async function ok(method: string, path: string, body?: unknown) {
  const response = await api.request(method, path, body === undefined ? {} : { body });
  assert.ok(response.status < 300, `${method} ${path}: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body;
}

test("generate a collection's view, copy it, run it, create it; on a phone too", async () => {
  const records = hubspotContacts(30);
  const sync = await ok("POST", "/v1/syncs", { name: "crm", provider: "hubspot" });
  await ok("POST", `/v1/syncs/${sync.id}/records`, { records });
  const registered = await ok("POST", "/v1/targets/postgres", {
    name: "warehouse",
    connection: {
      host: target.host,
      port: target.port,
      database: target.database,
      username: target.user,
      password: target.password,
      ssl: "disable",
    },
  });
  const consumer = await ok("POST", "/v1/consumers/postgres", {
    name: "crm",
    target_id: registered.id,
    filter: { provider: "hubspot" },
    table: { schema: target.schema, name: "crm" },
  });
  await asUser.query(consumer.create_table_sql);
  await ok("POST", `/v1/consumers/postgres/${consumer.id}/start`);
  await waitFor("all records applied", async () => {
    const c = await ok("GET", `/v1/consumers/postgres/${consumer.id}`);
    return c.stats.upserted === records.length;
  });

  const { page, assertNoErrors } = await openPage(browser, api.url);
  await page.context().grantPermissions(["clipboard-read", "clipboard-write"]);
  await signIn(page, api.token);
  await page.goto(`/console/consumers/${consumer.id}`);
  const collection = page.locator('[data-view-collection="contacts"]');
  await collection.getByRole("button", { name: "Generate SQL" }).click();
  const result = page.locator('[data-view-result="contacts"]');
  await result.waitFor();
  const statement = (await result.locator("pre").textContent()) ?? "";
  assert.match(
    statement,
    /^create or replace view "sequin"."crm_contacts" as\nselect\n {2}record.sequin_id,/,
  );
  await result
    .locator('tr[data-column="properties_numemployees"]')
    .filter({ hasText: "1 sampled value did not fit" })
    .waitFor();
  assert.equal(
    await result.locator('tr[data-column="properties_lastmodifieddate"] td[data-label="Type"]').textContent(),
    "timestamptz",
  );

  // the copy button copies the statement exactly, and it runs in the target as copied
  await result.getByRole("button", { name: "Copy SQL" }).click();
  await result.locator("button.copy").filter({ hasText: "Copied" }).waitFor();
  const copied = await page.evaluate(() => navigator.clipboard.readText());
  assert.equal(copied, statement);
  await asUser.query(copied);
  assert.equal((await asUser.query("select count(*)::int as n from sequin.crm_contacts")).rows[0].n, 30);

  // the statement stays while the live part of the page refreshes
  await page.waitForResponse((r) => r.url().endsWith(`/console/consumers/${consumer.id}/live`));
  await page.waitForResponse((r) => r.url().endsWith(`/console/consumers/${consumer.id}/live`));
  assert.equal(await result.locator("pre").textContent(), statement);
  await screenshot(page, "consumer-views", "#typed-views");

  // on a phone's width nothing overflows sideways
  await page.setViewportSize({ width: 390, height: 844 });
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 390), "no horizontal scroll");
  await page.setViewportSize({ width: 1280, height: 800 });

  // create it in the target, after confirming
  page.once("dialog", (dialog) => dialog.accept());
  await result.getByRole("button", { name: "Create the view in the target" }).click();
  await page
    .locator('[data-view-result="contacts"] .alert.ok')
    .filter({ hasText: "sequin.crm_contacts" })
    .waitFor();
  const typed = await asUser.query(
    "select pg_typeof(properties_closedate)::text as t from sequin.crm_contacts limit 1",
  );
  assert.equal(typed.rows[0].t, "timestamp with time zone");

  // a refusal shows in the page's flash area, naming what to do
  await target.admin.query(`revoke create on schema ${target.schema} from ${target.user}`);
  try {
    await collection.getByRole("button", { name: "Generate SQL" }).click();
    page.once("dialog", (dialog) => dialog.accept());
    await page
      .locator('[data-view-result="contacts"]')
      .getByRole("button", { name: "Create the view in the target" })
      .click();
    await page
      .locator("#flash .alert.error")
      .filter({ hasText: 'grant create on schema "sequin"' })
      .waitFor();
  } finally {
    await target.admin.query(`grant create on schema ${target.schema} to ${target.user}`);
  }
  assertNoErrors();
});
