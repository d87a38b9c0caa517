/**
 * A sync that pulls Salesforce, end to end through the API, against the stateful Salesforce emulator: wrong
 * credentials refused at creation with Salesforce's reason; a backfill (a record untouched for three years,
 * changes made meanwhile, a query locator that dies half-way) and then live changes, records that commit
 * late with an older stamp, more records in one second than a page holds, deletes into the recycle bin,
 * purges and an undelete leave the stream equal to the org's live records; the allotment holds in every
 * one-second window the org saw; the refresh-token flow renews a session that ended; the org's daily quota
 * spent makes the sync failing (never live) until it frees; a delete log past its 15 days reads everything
 * again and deletes what is gone; a token revoked later gives failing, one alert, and a recovery.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { busiestWindow, DAY_MS, startSalesforceEmulator } from "../emulators/salesforce/index.js";
import { startWebhookReceiver } from "../helpers/alert-receivers.js";
import { startTestService } from "../helpers/service.js";
import { waitFor } from "../helpers/wait.js";
import { waitSyncSeries } from "./sync-metrics.js";

const emulator = await startSalesforceEmulator();
emulator.addCustomObject("Invoice__c", [{ name: "Amount__c", type: "currency", label: "Amount" }]);
const webhook = await startWebhookReceiver();
const api = await startTestService({
  SEQUIN_LEASE_SECONDS: "3",
  SEQUIN_ALERT_WEBHOOK_URL: webhook.url,
  SEQUIN_ALERT_SETTLE_SECONDS: "1",
});

const collections = ["Account", "Contact", "Invoice__c"];
const rate = 20;

async function createSalesforceSync(
  name: string,
  credentials: Record<string, unknown>,
  extra: Record<string, unknown> = {},
) {
  return api.request("POST", "/v1/syncs", {
    body: {
      name,
      provider: "salesforce",
      collections,
      source: {
        credentials,
        base_url: emulator.instanceUrl,
        max_requests_per_second: rate,
        poll_interval_seconds: 0.25,
        settings: { lookback_seconds: 5, deleted_check_seconds: 1 },
        ...extra,
      },
    },
  });
}

async function streamOf(syncId: string, collection: string) {
  const { rows } = await api.store.pool.query<{ upstream_id: string; payload: unknown }>(
    "select upstream_id, payload from sequin_records where sync_id = $1 and collection_id = $2 and not deleted",
    [syncId, collection],
  );
  return new Map(rows.map((r) => [r.upstream_id, r.payload]));
}

async function difference(syncId: string): Promise<string | undefined> {
  for (const collection of collections) {
    const live = emulator.all(collection);
    const stream = await streamOf(syncId, collection);
    if (stream.size !== live.length)
      return `${collection}: ${stream.size} in the stream, ${live.length} in the org`;
    for (const record of live) {
      try {
        assert.deepEqual(stream.get(record.Id as string), record);
      } catch {
        return `${collection} ${record.Id} differs`;
      }
    }
  }
  return undefined;
}

async function waitConverged(syncId: string, what: string, timeoutMs = 30_000) {
  let last: string | undefined;
  await waitFor(
    what,
    async () => {
      last = await difference(syncId);
      return last === undefined;
    },
    timeoutMs,
  ).catch((error: Error) => {
    throw new Error(`${error.message} (${last})`);
  });
}

const sourceOf = async (syncId: string) => (await api.request("GET", `/v1/syncs/${syncId}`)).body.source;
const waitState = (syncId: string, state: string) =>
  waitFor(state, async () => {
    const source = await sourceOf(syncId);
    return source.state === state ? source : undefined;
  });
const pause = (syncId: string) => api.request("POST", `/v1/syncs/${syncId}/pause`);

test("wrong credentials are refused at creation with Salesforce's reason; nothing is saved", async () => {
  const ended = emulator.session();
  emulator.revokeSession(ended);
  const refused = await createSalesforceSync("sf-ended", { access_token: ended });
  assert.equal(refused.status, 422, JSON.stringify(refused.body));
  assert.equal(refused.body.code, "provider_refused");
  assert.match(
    refused.body.validation_errors["source.credentials"][0],
    /Session expired or invalid \(INVALID_SESSION_ID\)/,
  );
  assert.doesNotMatch(JSON.stringify(refused.body), new RegExp(ended.replace(/[!]/g, "\\!")));

  const revoked = emulator.refreshToken();
  emulator.revokeRefreshToken(revoked);
  const oauth = {
    client_id: emulator.clientId,
    client_secret: emulator.clientSecret,
    login_url: emulator.instanceUrl,
  };
  const denied = await createSalesforceSync("sf-revoked-grant", { refresh_token: revoked, ...oauth });
  assert.equal(denied.status, 422);
  assert.match(
    denied.body.validation_errors["source.credentials"][0],
    /invalid_grant: expired access\/refresh token/,
  );

  // the token answer names another instance: the credential is not sent there, the message says what to set
  emulator.setInstanceUrl("https://elsewhere.my.salesforce.com");
  const moved = await createSalesforceSync("sf-moved", { refresh_token: emulator.refreshToken(), ...oauth });
  emulator.setInstanceUrl(emulator.instanceUrl);
  assert.equal(moved.status, 422);
  assert.match(moved.body.validation_errors["source.credentials"][0], /set base_url to https:\/\/elsewhere/);

  const malformed = await createSalesforceSync("sf-malformed", { refresh_token: "x" });
  assert.equal(malformed.status, 400);
  assert.match(malformed.body.validation_errors["source.credentials.client_id"][0], /consumer key/);
  const unknown = await api.request("POST", "/v1/syncs", {
    body: {
      name: "sf-bad-collection",
      provider: "salesforce",
      collections: ["Account", "not an object"],
      source: { credentials: { access_token: emulator.accessToken }, base_url: emulator.instanceUrl },
    },
  });
  assert.equal(unknown.status, 400);
  assert.match(unknown.body.validation_errors["collections[1]"][0], /salesforce has no collection/);
  const syncs = (await api.request("GET", "/v1/syncs")).body.data as { name: string }[];
  assert.deepEqual(
    syncs.filter((s) => s.name.startsWith("sf-")),
    [],
  );
});

test("backfill, then live changes, late commits, ties past a page, deletes, purges: the stream equals the org", async () => {
  const old = emulator.create(
    "Account",
    { Name: "Untouched for three years" },
    { at: Date.now() - 3 * 365 * DAY_MS },
  );
  const accounts = Array.from({ length: 600 }, (_, i) =>
    emulator.create("Account", { Name: `Account ${i}`, BillingCity: "Lyon" }),
  );
  const contacts = Array.from({ length: 40 }, (_, i) =>
    emulator.create("Contact", { LastName: `Contact ${i}`, AccountId: accounts[i] }),
  );
  emulator.create("Invoice__c", { Name: "INV-1", Amount__c: 120.5 });
  // backfill batches of 200; the first locator dies before its next batch is asked for
  emulator.setBatchSize(200);
  let killed = false;
  const stop = emulator.onRequest((request) => {
    if (
      !killed &&
      request.path.endsWith("/query") &&
      request.query.includes("FROM+Account") &&
      request.query.includes("ORDER+BY+Id")
    ) {
      killed = true;
      setTimeout(() => emulator.expireLocators(), 0);
    }
  });
  const token = emulator.session();
  const created = await createSalesforceSync("sf-main", { access_token: token });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const syncId = created.body.id as string;
  assert.equal(created.body.source.provider, "salesforce");
  assert.doesNotMatch(JSON.stringify(created.body), new RegExp(token.replace(/[!]/g, "\\!")));
  // changes while the backfill runs
  emulator.update("Account", accounts[3]!, { Name: "Renamed during backfill" });
  emulator.remove("Account", accounts[599]!);
  emulator.create("Contact", { LastName: "New during backfill" });
  await waitConverged(syncId, "the backfill and the changes made meanwhile");
  stop();
  emulator.setBatchSize(2000);
  assert.ok(
    emulator.requests.some((r) => r.token === token && r.errorCode === "INVALID_QUERY_LOCATOR"),
    "a locator died during the backfill",
  );
  assert.ok((await streamOf(syncId, "Account")).has(old), "a record untouched for years is pulled");
  const live = await waitState(syncId, "live");
  assert.equal(live.last_error, null);

  // live: a change that commits 3 s late, stamped before a change already read
  emulator.update("Contact", contacts[0]!, { LastName: "Committed late" }, { lateByMs: 3000 });
  emulator.update("Contact", contacts[1]!, { LastName: "Changed after, read first" });
  await waitFor("the change read first", async () => {
    const stream = await streamOf(syncId, "Contact");
    return (stream.get(contacts[1]!) as { LastName?: string })?.LastName === "Changed after, read first";
  });
  // more records in one second than a page holds, a delete into the recycle bin, a delete then undelete
  const at = emulator.clock.nowMs();
  for (let i = 0; i < 2100; i++) emulator.create("Account", { Name: `Tie ${i}` }, { at });
  emulator.remove("Account", accounts[10]!);
  emulator.remove("Contact", contacts[2]!);
  emulator.undelete("Contact", contacts[2]!);
  emulator.update("Invoice__c", emulator.all("Invoice__c")[0]!.Id as string, { Amount__c: 99 });
  await waitConverged(syncId, "live changes", 45_000);
  // a live record hard-deleted (no recycle bin): seen in the delete log, read by whole minutes
  emulator.purge("Account", accounts[11]!);
  emulator.clock.advance(61_000);
  await waitConverged(syncId, "a purge", 30_000);
  const { rows } = await api.store.pool.query(
    "select upstream_id, deleted from sequin_records where sync_id = $1 and upstream_id = any($2) order by upstream_id",
    [syncId, [accounts[10], accounts[11]]],
  );
  assert.deepEqual(rows, [
    { upstream_id: accounts[10], deleted: true },
    { upstream_id: accounts[11], deleted: true },
  ]);

  // the allotment held in every one-second window the org saw for this session
  const ours = emulator.requests.filter((r) => r.token === token);
  assert.ok(ours.length > 20);
  assert.ok(busiestWindow(ours) <= rate, `busiest second: ${busiestWindow(ours)}`);
  await pause(syncId);
});

test("the refresh-token flow: a session is taken at first use and renewed when Salesforce ends it", async () => {
  const created = await createSalesforceSync("sf-oauth", {
    refresh_token: emulator.refreshToken(),
    client_id: emulator.clientId,
    client_secret: emulator.clientSecret,
    login_url: emulator.instanceUrl,
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const syncId = created.body.id as string;
  await waitConverged(syncId, "the backfill", 45_000);
  await waitState(syncId, "live");
  const issued = emulator.issuedTokens.length;
  emulator.faults.failNext(1, { kind: "session_expired", path: "/services/data" });
  const id = emulator.create("Account", { Name: "After the session ended" });
  await waitFor("the new account", async () => (await streamOf(syncId, "Account")).has(id));
  assert.equal(emulator.issuedTokens.length, issued + 1, "one new session");
  assert.equal((await sourceOf(syncId)).last_error, null);
  await pause(syncId);
});

test("the org's daily quota spent: failing with REQUEST_LIMIT_EXCEEDED, never live, until it frees", async () => {
  const created = await createSalesforceSync("sf-quota", { access_token: emulator.session() });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const syncId = created.body.id as string;
  await waitConverged(syncId, "the backfill", 45_000);
  await waitState(syncId, "live");
  const limit = emulator.quota.limit;
  emulator.quota.limit = emulator.quota.used();
  const id = emulator.create("Account", { Name: "Made while the quota is spent" });
  try {
    const failing = await waitState(syncId, "failing");
    assert.equal(failing.last_error.kind, "unavailable");
    assert.match(
      failing.last_error.message,
      /daily API requests are spent \(REQUEST_LIMIT_EXCEEDED: TotalRequests Limit exceeded/,
    );
    const check = failing.health.checks.find((c: { name: string }) => c.name === "provider");
    assert.equal(check.status, "unhealthy");
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal((await sourceOf(syncId)).state, "failing", "still failing while the quota is spent");
    const alert = await waitFor("the sync's alert", () =>
      webhook.received.find((r) => r.json.entity.kind === "sync" && r.json.entity.id === syncId),
    );
    assert.equal(alert.json.event, "sync.unhealthy");
    assert.equal(alert.json.entity.failing[0]?.name, "provider");
    await waitSyncSeries(
      api.url,
      "sf-quota",
      "salesforce",
      (s) => s.state === "failing" && s.healthy === 0,
      "the quota spent in /metrics",
    );
    assert.equal((await streamOf(syncId, "Account")).has(id), false);
  } finally {
    emulator.quota.limit = limit;
  }
  await waitFor("the change made meanwhile", async () => (await streamOf(syncId, "Account")).has(id), 30_000);
  await waitState(syncId, "live");
  await waitFor("the recovery alert", () =>
    webhook.received.find((r) => r.json.entity.id === syncId && r.json.event === "sync.recovered"),
  );
  assert.equal(
    webhook.received.filter((r) => r.json.entity.id === syncId).length,
    2,
    "one alert, one recovery",
  );
  await pause(syncId);
});

test("paused past the delete log's 15 days: everything is read again and what is gone is deleted", async () => {
  const created = await createSalesforceSync("sf-horizon", { access_token: emulator.session() });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const syncId = created.body.id as string;
  await waitConverged(syncId, "the first backfill", 45_000);
  await waitState(syncId, "live");
  await pause(syncId);
  await waitFor("the runner to stop", async () => (await sourceOf(syncId)).worker_id === null);
  const accounts = emulator.all("Account");
  emulator.purge("Account", accounts[0]!.Id as string);
  emulator.remove("Account", accounts[1]!.Id as string);
  emulator.clock.advance(16 * DAY_MS);
  emulator.purge("Account", accounts[1]!.Id as string);
  emulator.update("Account", accounts[2]!.Id as string, { Name: "Changed after the horizon" });
  const resumed = await api.request("POST", `/v1/syncs/${syncId}/resume`);
  assert.equal(resumed.status, 200);
  await waitConverged(syncId, "the re-backfill past the horizon", 60_000);
  const { rows } = await api.store.pool.query(
    "select deleted from sequin_records where sync_id = $1 and upstream_id = any($2)",
    [syncId, [accounts[0]!.Id, accounts[1]!.Id]],
  );
  assert.deepEqual(rows, [{ deleted: true }, { deleted: true }]);
  await waitFor("the re-backfill to end", async () => {
    const source = await sourceOf(syncId);
    return source.rebackfill === null && source.state === "live";
  });
  await pause(syncId);
});

test("a session revoked later: failing, one alert, no storm; a new token through PATCH: live again", async () => {
  const token = emulator.session();
  const created = await createSalesforceSync("sf-revoked-later", { access_token: token });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const syncId = created.body.id as string;
  await waitState(syncId, "live");
  emulator.revokeSession(token);
  const failing = await waitState(syncId, "failing");
  assert.equal(failing.last_error.kind, "refused");
  const credential = failing.health.checks.find((c: { name: string }) => c.name === "credential");
  assert.equal(credential.status, "unhealthy");
  assert.match(credential.error, /Session expired or invalid/);
  const alert = await waitFor("the sync's alert", () =>
    webhook.received.find((r) => r.json.entity.kind === "sync" && r.json.entity.id === syncId),
  );
  assert.equal(alert.json.event, "sync.unhealthy");
  const refusedAt = emulator.requests.filter((r) => r.token === token && r.status === 401).length;
  await new Promise((resolve) => setTimeout(resolve, 6000));
  const retries = emulator.requests.filter((r) => r.token === token && r.status === 401).length - refusedAt;
  assert.ok(retries <= 4, `${retries} requests with the revoked session in 6 s`);
  assert.equal(
    webhook.received.filter((r) => r.json.entity.kind === "sync" && r.json.entity.id === syncId).length,
    1,
  );
  const fresh = emulator.session();
  const patched = await api.request("PATCH", `/v1/syncs/${syncId}`, {
    body: { source: { credentials: { access_token: fresh } } },
  });
  assert.equal(patched.status, 200, JSON.stringify(patched.body));
  await waitConverged(syncId, "the sync with its new session", 45_000);
  await waitState(syncId, "live");
  const recovered = await waitFor("the recovery alert", () =>
    webhook.received.find((r) => r.json.entity.id === syncId && r.json.event === "sync.recovered"),
  );
  assert.equal(recovered.json.entity.status, "healthy");
});
