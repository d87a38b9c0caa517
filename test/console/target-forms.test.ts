/**
 * Targets in the console, where new users trip: a refused add keeps what it can and asks for the password
 * again (an empty one is never saved silently), step 1's names carry into step 2, a rotated password is
 * changed in the console (the connection tried first) and the waiting consumer resumes, a refused delete
 * names the consumers, and on a phone the health and action cells stay in view.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Page } from "playwright-core";
import { launchBrowser, openPage, screenshot, signIn } from "../helpers/browser.js";
import { createSeedTarget, tableMatchesStream } from "../helpers/consumer-world.js";
import { startConsoleService } from "./console-service.js";

const api = await startConsoleService();
const browser = await launchBrowser();

async function targetNamed(name: string) {
  const list = (await api.request("GET", "/v1/targets/postgres")).body.data as { id: string; name: string }[];
  return list.find((t) => t.name === name);
}

/** The cells of a table's column, by its header's text (the last column when "" is given). */
async function column(page: Page, header: string): Promise<string> {
  if (header === "") return "table tbody tr td:last-child";
  const headers = await page.locator("table thead th").allTextContents();
  const index = headers.findIndex((h) => h.trim().toLowerCase() === header.toLowerCase());
  assert.ok(index >= 0, `no column ${header} in ${headers.join(", ")}`);
  return `table tbody tr td:nth-child(${index + 1})`;
}

/**
 * Each cell's box lies within the phone's screen, and is not clipped by a scrolling table. The cells are
 * measured in one pass in the page: the consumers list refreshes itself, and a row replaced between counting
 * and measuring would otherwise read as "not shown".
 */
async function inView(page: Page, selector: string, width: number) {
  await page.locator(selector).first().waitFor();
  const cells = await page.locator(selector).evaluateAll((found) => {
    return found.map((cell) => {
      const a = cell.getBoundingClientRect();
      const wrap = cell.closest(".table-wrap");
      const b = wrap?.getBoundingClientRect();
      const style = getComputedStyle(cell);
      return {
        shown: a.width > 0 && a.height > 0 && style.visibility !== "hidden",
        left: a.left,
        right: a.right,
        clipped: b ? a.left < b.left - 1 || a.right > b.right + 1 : false,
      };
    });
  });
  assert.ok(cells.length > 0, `no ${selector}`);
  cells.forEach((cell, i) => {
    assert.ok(cell.shown, `${selector} #${i} is not shown`);
    assert.ok(cell.left >= 0 && cell.right <= width, `${selector} #${i} at x ${cell.left}..${cell.right}`);
    assert.equal(cell.clipped, false, `${selector} #${i} is cut off by its table`);
  });
}

test("add target: a refusal keeps what it can, asks for the password again, never saves an empty one", async () => {
  const db = await createSeedTarget();
  const { page, assertNoErrors } = await openPage(browser, api.url);
  await signIn(page, api.token);
  await page.goto("/console/targets/new");

  // the names typed in step 1 carry into step 2, unless something else was typed there
  await page.locator("#setup-user").fill(db.user);
  await page.locator("#setup-database").fill("no_such_db");
  await page.locator("#setup-sql-text").filter({ hasText: 'on database "no_such_db"' }).waitFor();
  assert.equal(await page.getByLabel("User", { exact: true }).inputValue(), db.user);
  assert.equal(await page.getByLabel("Database", { exact: true }).inputValue(), "no_such_db");

  await page.getByLabel("Name", { exact: true }).fill("retyped");
  await page.getByLabel("Host", { exact: true }).fill(db.host);
  await page.getByLabel("Port", { exact: true }).fill(String(db.port));
  await page.getByLabel("Password", { exact: true }).fill(db.password);
  await page.getByLabel("TLS", { exact: true }).selectOption("disable");
  await page.getByRole("button", { name: "Test connection and add target" }).click();
  await page.locator("#error-connection-database").filter({ hasText: "does not exist" }).waitFor();

  // everything but the secret stays; next to the password, plainly: type it again; it is required
  for (const [label, value] of [
    ["Name", "retyped"],
    ["Host", db.host],
    ["Port", String(db.port)],
    ["User", db.user],
    ["Database", "no_such_db"],
  ] as const) {
    assert.equal(await page.getByLabel(label, { exact: true }).inputValue(), value, label);
  }
  assert.equal(await page.getByLabel("TLS", { exact: true }).inputValue(), "disable");
  const password = page.getByLabel("Password", { exact: true });
  assert.equal(await password.inputValue(), "", "a secret is never sent back to the browser");
  assert.equal(await password.getAttribute("required"), "");
  await page
    .locator("#note-field-connection-password")
    .filter({ hasText: "Type the password again: it is never sent back to the browser." })
    .waitFor();
  await screenshot(page, "target-error", "#target-form");

  // fixing only the database: the browser asks for the password instead of sending the form
  await page.getByLabel("Database", { exact: true }).fill(db.database);
  await page.getByRole("button", { name: "Test connection and add target" }).click();
  assert.equal(await password.evaluate((input) => (input as HTMLInputElement).validity.valueMissing), true);
  // and without the browser's check, the service refuses it too, under the password
  await password.evaluate((input) => input.removeAttribute("required"));
  await page.getByRole("button", { name: "Test connection and add target" }).click();
  await page.locator("#error-connection-password").filter({ hasText: "type the password" }).waitFor();
  assert.equal(await targetNamed("retyped"), undefined, "nothing saved without a password");

  await page.getByLabel("Password", { exact: true }).fill(db.password);
  await page.getByRole("button", { name: "Test connection and add target" }).click();
  await page.waitForURL(/\/console\/targets\?added=/);
  const saved = await targetNamed("retyped");
  assert.ok(saved);
  assert.equal((await api.request("POST", `/v1/targets/postgres/${saved.id}/test`)).body.ok, true);
  assertNoErrors();
});

test("a rotated password is changed in the console; the waiting consumer says so, then resumes", async () => {
  const db = await createSeedTarget();
  const connection = {
    host: db.host,
    port: db.port,
    database: db.database,
    username: db.user,
    password: db.password,
    ssl: "disable",
  };
  const target = (
    await api.request("POST", "/v1/targets/postgres", { body: { name: "rotating", connection } })
  ).body;
  const sync = (await api.request("POST", "/v1/syncs", { body: { name: "crm", provider: "hubspot" } })).body;
  const ingest = async (from: number, to: number) => {
    const records = Array.from({ length: to - from }, (_, i) => ({
      collection_id: "contacts",
      upstream_id: `c${from + i}`,
      payload: { n: from + i },
      upstream_updated_at: new Date(Date.UTC(2024, 0, 1, 0, 0, from + i)).toISOString(),
    }));
    const r = await api.request("POST", `/v1/syncs/${sync.id}/records`, { body: { records } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
  };
  await ingest(0, 50);
  const consumer = (
    await api.request("POST", "/v1/consumers/postgres", {
      body: {
        name: "rotated",
        target_id: target.id,
        filter: { sync_id: sync.id },
        table: { schema: db.schema, name: "rotated" },
      },
    })
  ).body;
  await db.admin.query(consumer.create_table_sql);
  await db.admin.query(`grant all on all tables in schema ${db.schema} to ${db.user}`);
  assert.equal((await api.request("POST", `/v1/consumers/postgres/${consumer.id}/start`)).status, 200);

  const { page, assertNoErrors } = await openPage(browser, api.url);
  await signIn(page, api.token);
  await page.goto(`/console/consumers/${consumer.id}`);
  await page.locator('#consumer-status [data-state="live"]').waitFor({ timeout: 30_000 });

  // the password changes behind the service's back: the consumer waits, and the note says what ends it
  const rotated = `${db.password}-rotated`;
  await db.admin.query(`alter user ${db.user} password '${rotated}'`);
  await page.locator('#consumer-status [data-state="waiting_for_target"]').waitFor({ timeout: 30_000 });
  const note = page.locator("ul.notes li").filter({ hasText: "update the target's password" });
  await note.waitFor({ timeout: 30_000 });
  assert.match(
    (await note.textContent()) ?? "",
    /console → Targets → Edit, or PATCH \/v1\/targets\/postgres\//,
  );
  await ingest(50, 80);

  // Targets → Edit: what is stored, without the password; a wrong one is refused and nothing changes
  await page.getByRole("link", { name: "Targets" }).click();
  await page.locator('tr[data-target="rotating"]').getByRole("link", { name: "Edit" }).click();
  await page.waitForURL(/\/console\/targets\/[0-9a-f-]{36}\/edit$/);
  assert.equal(await page.getByLabel("Host", { exact: true }).inputValue(), db.host);
  assert.equal(await page.getByLabel("User", { exact: true }).inputValue(), db.user);
  const password = page.getByLabel("New password", { exact: true });
  assert.equal(await password.inputValue(), "");
  await password.fill("not-the-new-one");
  await page.getByRole("button", { name: "Test connection and save" }).click();
  await page
    .locator("#error-connection-password")
    .filter({ hasText: "password authentication failed" })
    .waitFor();
  await page
    .locator("#note-field-connection-password")
    .filter({ hasText: "Type the new password again" })
    .waitFor();
  await page.getByLabel("New password", { exact: true }).fill(rotated);
  await screenshot(page, "target-edit", "#target-form");
  await page.getByRole("button", { name: "Test connection and save" }).click();
  await page.waitForURL(/\/console\/targets\?saved=/);
  await page.locator(".alert.ok").filter({ hasText: "rotating" }).waitFor();

  // the consumer resumes by itself with the saved password, and catches up
  await page.goto(`/console/consumers/${consumer.id}`);
  await page.locator('#consumer-status [data-state="live"]').waitFor({ timeout: 60_000 });
  await page.locator('[data-stat="upserted"]').filter({ hasText: /^80$/ }).waitFor({ timeout: 30_000 });
  const diff = await tableMatchesStream(api.store.pool, db.admin, `${db.schema}.rotated`, {
    syncId: sync.id,
  });
  assert.deepEqual(diff, { missing: [], extra: [], stale: [] });

  // deleting the target is refused, naming it and its consumer (not by ids)
  await page.goto("/console/targets");
  page.once("dialog", (dialog) => dialog.accept());
  await page.locator('tr[data-target="rotating"]').getByRole("button", { name: "Delete" }).click();
  const refusal = page.locator("#flash .alert.error");
  await refusal.filter({ hasText: 'target "rotating" is used by 1 consumer: "rotated"' }).waitFor();
  assert.doesNotMatch((await refusal.textContent()) ?? "", new RegExp(`${target.id}|\\(s\\)`));
  assertNoErrors();
});

test("on a phone, the targets and consumers tables keep their health and action cells in view", async () => {
  const { page, assertNoErrors } = await openPage(browser, api.url);
  await signIn(page, api.token);
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto("/console/targets");
  await inView(page, await column(page, "Health"), 390);
  const actions = await column(page, "");
  await inView(page, actions, 390);
  await inView(page, `${actions} button:has-text("Delete")`, 390);
  await screenshot(page, "targets-phone");
  await page.goto("/console/consumers");
  await page.locator("tr[data-consumer]").first().waitFor();
  await inView(page, await column(page, "Health"), 390);
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 390), "no horizontal scroll");
  assertNoErrors();
});
