/** Form errors next to their fields, and pause, resume and delete with confirmation. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { launchBrowser, openPage, screenshot, signIn } from "../helpers/browser.js";
import { createSeedTarget } from "../helpers/consumer-world.js";
import { startConsoleService } from "./console-service.js";

const api = await startConsoleService();
const browser = await launchBrowser();
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
  await api.request("POST", "/v1/targets/postgres", { body: { name: "main-db", connection } })
).body;

test("errors show next to the field that caused them", async () => {
  const { page, assertNoErrors } = await openPage(browser, api.url);
  await signIn(page, api.token);
  await page.goto("/console/targets/new");
  await page.locator("#setup-schema").fill("");
  await page.locator("#setup-error-schema").filter({ hasText: "must not be empty" }).waitFor();

  await page.getByLabel("Name", { exact: true }).fill("main-db");
  await page.getByLabel("Host", { exact: true }).fill(target.host);
  await page.getByLabel("Port", { exact: true }).fill(String(target.port));
  await page.getByLabel("Database", { exact: true }).fill(target.database);
  await page.getByLabel("User", { exact: true }).fill(target.user);
  await page.getByLabel("Password", { exact: true }).fill("wrong-password");
  await page.getByLabel("TLS", { exact: true }).selectOption("disable");
  await page.getByRole("button", { name: "Test connection and add target" }).click();
  await page
    .locator("#error-connection-password")
    .filter({ hasText: "password authentication failed" })
    .waitFor();
  assert.equal(await page.getByLabel("Password", { exact: true }).getAttribute("aria-invalid"), "true");
  assert.equal(
    await page.getByLabel("Host", { exact: true }).inputValue(),
    target.host,
    "what was typed stays",
  );

  await page.getByLabel("Password", { exact: true }).fill(target.password);
  await page.getByRole("button", { name: "Test connection and add target" }).click();
  await page.locator("#error-name").filter({ hasText: "already exists" }).waitFor();

  await page.goto("/console/consumers/new");
  await page.getByLabel("Target", { exact: true }).selectOption(registered.id);
  await page.getByLabel("Table", { exact: true }).fill("t".repeat(70));
  await page.getByLabel("Consumer name", { exact: true }).fill("too-long");
  await page.getByRole("button", { name: "Continue: create table statement" }).click();
  await page.locator("#error-table-name").filter({ hasText: "at most 63 bytes" }).waitFor();
  await page.locator("#error-filter-provider").filter({ hasText: "choose a provider" }).waitFor();
  assertNoErrors();
});

test("pause, resume and delete ask for confirmation first", async () => {
  const created = await api.request("POST", "/v1/consumers/postgres", {
    body: {
      name: "ops",
      target_id: registered.id,
      filter: { provider: "stripe" },
      table: { schema: "sequin", name: "ops" },
    },
  });
  await target.admin.query(created.body.create_table_sql);
  await target.admin.query(`grant all on all tables in schema sequin to ${target.user}`);
  assert.equal((await api.request("POST", `/v1/consumers/postgres/${created.body.id}/start`)).status, 200);

  const { page, assertNoErrors } = await openPage(browser, api.url);
  await signIn(page, api.token);
  await page.goto(`/console/consumers/${created.body.id}`);
  const status = page.locator("#consumer-status");
  await status.locator('[data-state="live"]').waitFor({ timeout: 30_000 });

  // dismissed: nothing happens
  page.once("dialog", (dialog) => dialog.dismiss());
  await page.getByRole("button", { name: "Pause" }).click();
  await page.getByRole("button", { name: "Pause" }).waitFor();
  assert.equal((await api.request("GET", `/v1/consumers/postgres/${created.body.id}`)).body.state, "live");

  let asked = "";
  page.once("dialog", (dialog) => {
    asked = dialog.message();
    return dialog.accept();
  });
  await page.getByRole("button", { name: "Pause" }).click();
  await status.locator('[data-state="paused"]').waitFor();
  assert.match(asked, /Pause “ops”\?/);
  await page.locator("ul.notes").filter({ hasText: "Paused by a user" }).waitFor();
  await screenshot(page, "consumer-paused");

  page.once("dialog", (dialog) => dialog.accept());
  await page.getByRole("button", { name: "Resume" }).click();
  await status.locator('[data-state="live"]').waitFor({ timeout: 30_000 });

  // a target with consumers cannot be deleted: the refusal shows in the page
  await page.goto("/console/targets");
  page.once("dialog", (dialog) => dialog.accept());
  await page.getByRole("button", { name: "Delete" }).click();
  await page
    .locator("#flash .alert.error")
    .filter({ hasText: 'target "main-db" is used by 1 consumer: "ops". Delete it or move it' })
    .waitFor();

  await page.goto(`/console/consumers/${created.body.id}`);
  page.once("dialog", (dialog) => {
    asked = dialog.message();
    return dialog.accept();
  });
  await page.getByRole("button", { name: "Delete" }).click();
  await page.waitForURL(/\/console\/consumers$/);
  assert.match(asked, /table and the rows in it stay/);
  await page.locator("#consumer-rows").filter({ hasText: "No consumer yet" }).waitFor();
  assert.equal((await api.request("GET", `/v1/consumers/postgres/${created.body.id}`)).status, 404);
  assertNoErrors();
});
