/** The syncs page: record counts per collection, removal with the warning that rows stay; escaped names. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { launchBrowser, openPage, screenshot, signIn } from "../helpers/browser.js";
import { createSeedTarget } from "../helpers/consumer-world.js";
import { startConsoleService } from "./console-service.js";

const api = await startConsoleService();
const browser = await launchBrowser();

const at = (s: number) => new Date(Date.UTC(2024, 0, 1, 0, 0, s)).toISOString();
const record = (collection_id: string, upstream_id: string, s: number, deleted = false) => ({
  collection_id,
  upstream_id,
  upstream_updated_at: at(s),
  ...(deleted ? { deleted } : { payload: { id: upstream_id } }),
});

test("record counts per collection; removing a collection or a sync warns that rows stay", async () => {
  const target = await createSeedTarget();
  const connection = {
    host: target.host,
    port: target.port,
    database: target.database,
    username: target.user,
    password: target.password,
    ssl: "disable",
  };
  const registered = (
    await api.request("POST", "/v1/targets/postgres", { body: { name: "crm-db", connection } })
  ).body;
  await api.request("POST", "/v1/consumers/postgres", {
    body: {
      name: "sf",
      target_id: registered.id,
      filter: { provider: "salesforce" },
      table: { schema: "sequin", name: "sf" },
    },
  });
  // a name with markup: it must show as text
  const name = "acme <b>prod</b> & co";
  const sync = (await api.request("POST", "/v1/syncs", { body: { name, provider: "salesforce" } })).body;
  const other = (
    await api.request("POST", "/v1/syncs", { body: { name: "acme-staging", provider: "salesforce" } })
  ).body;
  const ingested = await api.request("POST", `/v1/syncs/${sync.id}/records`, {
    body: {
      records: [
        record("accounts", "a1", 1),
        record("accounts", "a2", 1),
        record("accounts", "a3", 1),
        record("contacts", "c1", 1),
        record("contacts", "c2", 1),
      ],
    },
  });
  assert.equal(ingested.status, 200);
  await api.request("POST", `/v1/syncs/${sync.id}/records`, {
    body: { records: [record("contacts", "c2", 2, true)] },
  });

  const { page, assertNoErrors } = await openPage(browser, api.url);
  await signIn(page, api.token);
  await page.getByRole("link", { name: "Syncs" }).click();
  const card = page.locator(`#sync-${sync.id}`);
  await card.getByRole("heading", { name }).waitFor();
  assert.equal(await card.locator("h2 b").count(), 0, "the name's markup is text, not HTML");
  assert.equal(
    (await card.locator('tr[data-collection="accounts"] td.num').first().textContent()) ?? "",
    "3",
  );
  assert.equal(
    (await card.locator('tr[data-collection="contacts"] td.num').first().textContent()) ?? "",
    "1",
  );
  await screenshot(page, "syncs");

  let asked = "";
  page.once("dialog", (dialog) => {
    asked = dialog.message();
    return dialog.accept();
  });
  await card.locator('tr[data-collection="contacts"]').getByRole("button", { name: "Remove" }).click();
  await card
    .locator(".alert.info")
    .filter({ hasText: "Rows already written to your targets stay" })
    .waitFor();
  assert.match(asked, /Rows already in your targets stay/);
  const cleanup = (await card.locator(`#cleanup-${sync.id}`).textContent()) ?? "";
  assert.equal(
    cleanup,
    `delete from "sequin"."sf" where sync_id = '${sync.id}' and collection_id = 'contacts';`,
  );
  assert.equal(await card.locator('tr[data-collection="contacts"]').count(), 0);
  await screenshot(page, "sync-removed");
  assert.deepEqual((await api.request("GET", `/v1/syncs/${sync.id}`)).body.collections, ["accounts"]);

  page.once("dialog", (dialog) => {
    asked = dialog.message();
    return dialog.accept();
  });
  await page.locator(`#sync-${other.id}`).getByRole("button", { name: "Delete sync" }).click();
  await page
    .locator(`[data-sync-deleted="acme-staging"]`)
    .filter({ hasText: "Rows already written to your targets stay" })
    .waitFor();
  assert.match(asked, /Delete sync “acme-staging”.*Rows already in your targets stay/s);
  assert.equal((await api.request("GET", `/v1/syncs/${other.id}`)).status, 404);
  assertNoErrors();
});
