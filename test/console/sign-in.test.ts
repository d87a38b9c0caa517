/** Signing in to the console with an API token: refusal, session cookie, CSRF refusal, sign-out. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { launchBrowser, openPage, screenshot, signIn } from "../helpers/browser.js";
import { startConsoleService } from "./console-service.js";

const api = await startConsoleService();
const browser = await launchBrowser();

test("a wrong token is refused next to the field; the right one opens the page asked for", async () => {
  const { page, assertNoErrors } = await openPage(browser, api.url);
  await page.goto("/console/targets");
  await page.waitForURL(/\/login\?next=%2Fconsole%2Ftargets$/);
  await page.getByLabel("API token").fill("not-the-token-at-all");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.locator("#error-token").waitFor();
  assert.match((await page.locator("#error-token").textContent()) ?? "", /not valid/);
  assert.equal(await page.getByLabel("API token").getAttribute("aria-invalid"), "true");
  await screenshot(page, "sign-in");

  await page.getByLabel("API token").fill(api.token);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(/\/console\/targets$/);
  await page.getByRole("heading", { name: "Targets" }).waitFor();
  const [cookie] = await page.context().cookies();
  assert.equal(cookie?.name, "sequin_session");
  assert.equal(cookie.httpOnly, true);
  assert.equal(cookie.sameSite, "Strict");
  assert.ok(!cookie.value.includes(api.token), "the token is not in the cookie");
  assertNoErrors();
});

test("a signed-in browser still cannot post cross-site, nor use the API without a bearer token", async () => {
  const { page, assertNoErrors } = await openPage(browser, api.url);
  await signIn(page, api.token);
  const cookie = (await page.context().cookies()).map((c) => `${c.name}=${c.value}`).join("; ");
  const post = (headers: Record<string, string>) =>
    fetch(`${api.url}/logout`, { method: "POST", headers: { cookie, ...headers }, redirect: "manual" });
  assert.equal((await post({})).status, 403, "no Origin and no HX-Request");
  assert.equal((await post({ origin: "https://evil.example" })).status, 403, "another site's Origin");
  const v1 = await fetch(`${api.url}/v1/consumers/postgres`, { headers: { cookie } });
  assert.equal(v1.status, 401, "/v1 stays bearer-only");
  // the session survived the refused requests
  await page.goto("/console/syncs");
  await page.getByRole("heading", { name: "Syncs" }).waitFor();
  assertNoErrors();
});

test("signing out ends the session", async () => {
  const { page, assertNoErrors } = await openPage(browser, api.url);
  await signIn(page, api.token);
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL(/\/login$/);
  await page.goto("/console/consumers");
  await page.waitForURL(/\/login\?next=/);
  const unknown = await fetch(`${api.url}/console/consumers`, { redirect: "manual" });
  assert.equal(unknown.status, 303);
  assertNoErrors();
});
