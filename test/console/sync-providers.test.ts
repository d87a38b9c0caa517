/**
 * Adding a sync of each provider that needs more than one key, in the console, against the providers'
 * emulators: GitHub's repositories (a required setting: a bad one is refused under the list, the list kept),
 * Salesforce's access token alone (the second way to sign in: picking it swaps the credential's fields) with
 * a setting under Advanced, and HubSpot's OAuth app (a setting out of range is refused under it; a revoked
 * refresh token with HubSpot's reason under the refresh token). Each saved sync pulls its records to live,
 * and its page shows the settings as given.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Page } from "playwright-core";
import { startGithubEmulator } from "../emulators/github/index.js";
import { startHubSpotEmulator } from "../emulators/hubspot/index.js";
import { startSalesforceEmulator } from "../emulators/salesforce/index.js";
import { launchBrowser, openPage, screenshot, signIn } from "../helpers/browser.js";
import { waitFor } from "../helpers/wait.js";
import { startConsoleService } from "./console-service.js";
import { collectionRows } from "./sync-page.js";

const api = await startConsoleService();
const browser = await launchBrowser();

/** Waits until the page shows every collection live with these counts; says what differs if it never does. */
async function waitLive(page: Page, expected: Record<string, number>, what: string) {
  let last = "";
  await waitFor(
    what,
    async () => {
      const rows = await collectionRows(page);
      last = JSON.stringify(rows);
      const shown = Object.fromEntries(rows.map((r) => [r.collection, r.records]));
      try {
        assert.deepEqual(shown, expected);
      } catch {
        return false;
      }
      return rows.every((r) => r.state === "live");
    },
    60_000,
  ).catch((error: Error) => {
    throw new Error(`${error.message}: expected ${JSON.stringify(expected)}, the page shows ${last}`);
  });
}

/** The add-sync form with `provider` picked; its provider fields swapped in. */
async function openForm(provider: string) {
  const watched = await openPage(browser, api.url);
  const { page } = watched;
  await signIn(page, api.token);
  await page.goto(`${api.url}/console/syncs/new`);
  await page.locator(`#provider-choice-${provider}`).check();
  return watched;
}

const submitLabel = "Try the credential and add sync";

test("GitHub: the repositories are asked for next to the collections; a bad one is refused under the list", async () => {
  const github = await startGithubEmulator();
  for (const repository of ["octo-org/api", "octo-org/web"]) github.createRepository(repository);
  for (let i = 0; i < 3; i++) github.createIssue("octo-org/api", { title: `API issue ${i}` });
  for (let i = 0; i < 2; i++) github.createIssue("octo-org/web", { title: `Web issue ${i}` });
  github.createComment("octo-org/api", 1, "First!");
  const token = github.createToken();

  const { page, assertNoErrors } = await openForm("github");
  await page.locator("#provider-fields h2", { hasText: "GitHub credentials" }).waitFor();
  assert.equal(
    await page.locator("#provider-fields h2", { hasText: /^3\. / }).textContent(),
    "3. Repositories and collections",
  );
  assert.equal(
    await page.locator("#credential-choice-token").count(),
    0,
    "one way to sign in: no choice shown",
  );
  await page.getByLabel("Name", { exact: true }).fill("github-console");
  await page.getByLabel("Personal access token", { exact: true }).fill(token);
  await page.getByLabel("Repositories", { exact: true }).fill("octo-org/api\nnot a repository");
  await page.locator("details summary", { hasText: "Advanced" }).click();
  await page.getByLabel("Base URL", { exact: true }).fill(github.baseUrl);
  await page.getByLabel("Max requests per second", { exact: true }).fill("15");
  await page.getByLabel("Poll interval (seconds)", { exact: true }).fill("0.5");
  await page.getByRole("button", { name: submitLabel }).click();

  const refusal = page.locator("#error-source-settings-repositories");
  await refusal.waitFor();
  assert.equal(
    (await refusal.textContent())?.trim(),
    'must be "owner/name" (letters, digits, "-" in the owner; also "." and "_" in the name), not "not a repository"',
  );
  assert.equal(
    await page.getByLabel("Repositories", { exact: true }).inputValue(),
    "octo-org/api\nnot a repository",
    "the list is kept as typed",
  );
  await screenshot(page, "sync-settings-refused", "#provider-fields h2:has-text('Repositories')");
  assert.equal((await api.request("GET", "/v1/syncs")).body.data.length, 0, "nothing saved");

  await page.getByLabel("Repositories", { exact: true }).fill("octo-org/api\nocto-org/web");
  await page.getByLabel("Personal access token", { exact: true }).fill(token);
  await page.getByRole("button", { name: submitLabel }).click();
  await page.waitForURL(/\/console\/syncs\/[0-9a-f-]{36}$/);
  const id = page.url().split("/").pop();
  const saved = (await api.request("GET", `/v1/syncs/${id}`)).body;
  assert.deepEqual(saved.source.settings, { repositories: ["octo-org/api", "octo-org/web"] });
  assert.equal(
    await page.locator('[data-setting="repositories"]').textContent(),
    "octo-org/api, octo-org/web",
  );
  assert.equal(await page.locator('[data-setting="sweep_interval_hours"]').textContent(), "default (24)");

  await waitLive(page, { issues: 5, issue_comments: 1, pull_requests: 0 }, "GitHub's issues and comments");
  assertNoErrors();
});

test("Salesforce: picking 'Access token only' swaps the credential's fields; a setting under Advanced is saved", async () => {
  const salesforce = await startSalesforceEmulator();
  const accounts = Array.from({ length: 4 }, (_, i) =>
    salesforce.create("Account", { Name: `Account ${i}` }),
  );
  salesforce.create("Contact", { LastName: "Curie", AccountId: accounts[0] });

  const { page, assertNoErrors } = await openForm("salesforce");
  await page.locator("#provider-fields h2", { hasText: "Salesforce credentials" }).waitFor();
  // the connected app first: a sync that renews its own session
  assert.equal(await page.locator("#credential-choice-oauth").isChecked(), true);
  await page.getByLabel("Refresh token", { exact: true }).waitFor();
  assert.equal(await page.getByLabel("Access token", { exact: true }).count(), 0);

  await page.locator("#credential-choice-access_token").check();
  await page.getByLabel("Access token", { exact: true }).waitFor();
  assert.equal(
    await page.getByLabel("Refresh token", { exact: true }).count(),
    0,
    "the other way's fields go",
  );
  assert.equal(await page.getByLabel("Consumer key", { exact: true }).count(), 0);
  await screenshot(page, "sync-credential-choice", "#provider-fields");

  await page.getByLabel("Name", { exact: true }).fill("salesforce-console");
  await page.getByLabel("Access token", { exact: true }).fill(salesforce.accessToken);
  for (const object of ["Opportunity", "Lead", "Case", "User"])
    await page.locator(`#collection-${object}`).uncheck();
  await page.locator("details summary", { hasText: "Advanced" }).click();
  await page.getByLabel("Base URL", { exact: true }).fill(salesforce.instanceUrl);
  await page.getByLabel("Max requests per second", { exact: true }).fill("10");
  await page.getByLabel("Poll interval (seconds)", { exact: true }).fill("0.5");
  await page.getByLabel("Daily quota share (%)", { exact: true }).fill("50");
  await page.getByRole("button", { name: submitLabel }).click();
  await page.waitForURL(/\/console\/syncs\/[0-9a-f-]{36}$/);

  const id = page.url().split("/").pop();
  const saved = (await api.request("GET", `/v1/syncs/${id}`)).body;
  assert.deepEqual(saved.collections, ["Account", "Contact"]);
  assert.deepEqual(saved.source.settings, { daily_quota_percent: 50 });
  assert.equal(await page.locator('[data-setting="daily_quota_percent"]').textContent(), "50");
  await waitLive(page, { Account: 4, Contact: 1 }, "Salesforce's accounts and contacts");
  assertNoErrors();
});

test("HubSpot: an OAuth app's install; a look-back out of range, then a revoked refresh token, each refused under its field", async () => {
  const hubspot = await startHubSpotEmulator();
  for (let i = 0; i < 6; i++) hubspot.create("contacts", { email: `c${i}@example.com` });
  const revoked = hubspot.createOAuthApp();
  hubspot.revoke(revoked.refreshToken);
  const install = hubspot.createOAuthApp();

  const { page, assertNoErrors } = await openForm("hubspot");
  await page.locator("#provider-fields h2", { hasText: "HubSpot credentials" }).waitFor();
  assert.equal(
    await page.locator("#credential-choice-key").isChecked(),
    true,
    "a key first: the simplest way",
  );
  await page.locator("#credential-choice-oauth").check();
  await page.getByLabel("OAuth refresh token", { exact: true }).waitFor();
  await page.getByLabel("Name", { exact: true }).fill("hubspot-console");
  const fillOAuth = async (app: { refreshToken: string; clientId: string; clientSecret: string }) => {
    await page.getByLabel("OAuth refresh token", { exact: true }).fill(app.refreshToken);
    await page.getByLabel("OAuth client id", { exact: true }).fill(app.clientId);
    await page.getByLabel("OAuth client secret", { exact: true }).fill(app.clientSecret);
  };
  await fillOAuth(revoked);
  for (const collection of ["companies", "deals", "tickets", "products", "line_items", "owners"])
    await page.locator(`#collection-${collection}`).uncheck();
  await page.locator("details summary", { hasText: "Advanced" }).click();
  await page.getByLabel("Base URL", { exact: true }).fill(hubspot.baseUrl);
  await page.getByLabel("Poll interval (seconds)", { exact: true }).fill("0.5");
  await page.getByLabel("Search look-back (seconds)", { exact: true }).fill("7200");
  const submit = page.getByRole("button", { name: submitLabel });
  await submit.click();

  const lookback = page.locator("#error-source-settings-lookback_seconds");
  await lookback.waitFor();
  assert.match((await lookback.textContent()) ?? "", /from 0 to 3600/);
  assert.equal(await page.locator("#credential-choice-oauth").isChecked(), true, "the way picked is kept");
  assert.equal(await page.getByLabel("OAuth client id", { exact: true }).inputValue(), revoked.clientId);

  await page.getByLabel("Search look-back (seconds)", { exact: true }).fill("60");
  await page.getByLabel("OAuth refresh token", { exact: true }).fill(revoked.refreshToken);
  await page.getByLabel("OAuth client secret", { exact: true }).fill(revoked.clientSecret);
  await submit.click();
  const refusal = page.locator("#error-source-credentials-refresh_token");
  await refusal.waitFor();
  assert.match((await refusal.textContent()) ?? "", /^hubspot refused it: /);
  assert.doesNotMatch(await page.content(), new RegExp(revoked.refreshToken), "a secret never comes back");

  await fillOAuth(install);
  await submit.click();
  await page.waitForURL(/\/console\/syncs\/[0-9a-f-]{36}$/);
  const id = page.url().split("/").pop();
  const saved = (await api.request("GET", `/v1/syncs/${id}`)).body;
  assert.deepEqual(saved.source.settings, { lookback_seconds: 60 });
  await waitLive(page, { contacts: 6 }, "HubSpot's contacts");
  assert.ok(
    hubspot.refreshes(install.refreshToken) >= 1,
    "the sync signed in with the install's refresh token",
  );
  assertNoErrors();
});
