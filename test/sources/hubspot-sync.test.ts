/**
 * A sync that pulls HubSpot, end to end through the API, against the HubSpot emulator (its search index
 * lagging 1.5 s behind): a wrong token is refused at creation with HubSpot's reason; the backfill (with
 * changes made while it runs) and then live changes, archives, merges and owners leave the stream equal to
 * HubSpot's live records, every property as the API returns it now; the allotment holds in every one-second
 * window HubSpot saw, and so its ten-second limit; a token revoked later makes the sync failing with one
 * alert, retried with backoff, and a new token through PATCH brings it back; a spent daily quota is a
 * failing sync that recovers by itself; an OAuth app's sync renews its access token by its lifetime; a
 * sync paused past the 90-day recycle bin reads everything again and deletes what was purged.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { isDeepStrictEqual } from "node:util";
import {
  busiestWindow,
  DAY_MS,
  type HubSpotEmulator,
  startHubSpotEmulator,
} from "../emulators/hubspot/index.js";
import { startWebhookReceiver } from "../helpers/alert-receivers.js";
import { startTestService } from "../helpers/service.js";
import { waitFor } from "../helpers/wait.js";
import { waitSyncSeries } from "./sync-metrics.js";

const emulator: HubSpotEmulator = await startHubSpotEmulator();
emulator.setIndexLag(1500);
const webhook = await startWebhookReceiver();
const api = await startTestService({
  SEQUIN_LEASE_SECONDS: "3",
  SEQUIN_ALERT_WEBHOOK_URL: webhook.url,
  SEQUIN_ALERT_SETTLE_SECONDS: "1",
});

const objectTypes = ["contacts", "companies", "deals"] as const;
const collections = [...objectTypes, "owners"];
const allotment = 10;

async function createHubSpotSync(name: string, credentials: Record<string, unknown>) {
  return api.request("POST", "/v1/syncs", {
    body: {
      name,
      provider: "hubspot",
      collections,
      source: {
        credentials,
        base_url: emulator.baseUrl,
        max_requests_per_second: allotment,
        poll_interval_seconds: 0.25,
        settings: { lookback_seconds: 5 },
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

/** Whether the stream holds exactly HubSpot's live records and owners, as the API returns them now. */
async function converged(syncId: string): Promise<true | string> {
  for (const collection of collections) {
    const live =
      collection === "owners" ? emulator.owners() : emulator.all(collection as (typeof objectTypes)[number]);
    const stream = await streamOf(syncId, collection);
    if (stream.size !== live.length)
      return `${collection}: ${stream.size} in the stream, ${live.length} in HubSpot`;
    for (const object of live) {
      try {
        assert.deepEqual(stream.get(object.id as string), object);
      } catch {
        return `${collection} ${object.id} differs`;
      }
    }
  }
  return true;
}

async function waitConverged(syncId: string, what: string, timeoutMs = 45_000) {
  let last = "";
  await waitFor(
    what,
    async () => {
      const result = await converged(syncId);
      if (result === true) return true;
      last = result;
      return false;
    },
    timeoutMs,
  ).catch((error: Error) => {
    throw new Error(`${error.message} (${last})`);
  });
}

const state = async (syncId: string) => (await api.request("GET", `/v1/syncs/${syncId}`)).body.source;

test("a wrong token is refused at creation with HubSpot's reason; a malformed credential names its field", async () => {
  const revoked = emulator.createPrivateApp();
  emulator.revoke(revoked);
  const refused = await createHubSpotSync("hubspot-revoked", { access_token: revoked });
  assert.equal(refused.status, 422, JSON.stringify(refused.body));
  assert.equal(refused.body.code, "provider_refused");
  assert.match(
    refused.body.validation_errors["source.credentials"][0],
    /^hubspot refused it: .*Authentication credentials not found/,
  );
  assert.doesNotMatch(JSON.stringify(refused.body), new RegExp(revoked));
  const partial = await createHubSpotSync("hubspot-partial", { refresh_token: "na1-x", client_id: "id" });
  assert.equal(partial.status, 400);
  assert.match(partial.body.validation_errors["source.credentials.client_secret"][0], /OAuth app/);
  const badSetting = await api.request("POST", "/v1/syncs", {
    body: {
      name: "hubspot-bad-setting",
      provider: "hubspot",
      collections: ["contacts", "emails"],
      source: {
        credentials: { access_token: "pat-na1-x" },
        base_url: emulator.baseUrl,
        settings: { lookback_seconds: -1 },
      },
    },
  });
  assert.equal(badSetting.status, 400);
  const errors = badSetting.body.validation_errors;
  assert.match(
    errors["source.settings.lookback_seconds"]?.[0] ?? errors["collections[1]"]?.[0],
    /whole number|no collection/,
  );
});

test("backfill with changes meanwhile, then live changes, archives, merges and owners: the stream equals HubSpot", async () => {
  const contacts = Array.from({ length: 240 }, (_, i) =>
    emulator.create("contacts", { email: `c${i}@example.com`, firstname: `Contact ${i}` }),
  );
  const companies = Array.from({ length: 40 }, (_, i) =>
    emulator.create("companies", { name: `Company ${i}` }),
  );
  for (let i = 0; i < 15; i++) emulator.create("deals", { dealname: `Deal ${i}`, amount: String(i * 1000) });
  const owners = Array.from({ length: 3 }, () => emulator.createOwner());
  emulator.archive("companies", companies[0]!.id as string); // archived before: never in the stream

  const token = emulator.createPrivateApp();
  const created = await createHubSpotSync("hubspot-main", { access_token: token });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const syncId = created.body.id as string;
  assert.doesNotMatch(JSON.stringify(created.body), new RegExp(token));

  // while the backfill runs
  emulator.update("contacts", contacts[3]!.id as string, { lastname: "Renamed during backfill" });
  emulator.archive("contacts", contacts[200]!.id as string);
  emulator.create("contacts", { email: "new@example.com" });
  await waitConverged(syncId, "the backfill and the changes made meanwhile");
  const view = await waitFor("live", async () => {
    const source = await state(syncId);
    return source.state === "live" ? source : undefined;
  });
  assert.equal(view.last_error, null);

  // live: a burst on one contact, archives, a merge, a restore, owners changing
  for (let i = 0; i < 4; i++)
    emulator.update("contacts", contacts[10]!.id as string, { phone: `+1 555 000 ${i}` });
  emulator.archive("contacts", contacts[11]!.id as string);
  emulator.merge("contacts", contacts[20]!.id as string, contacts[21]!.id as string);
  emulator.restore("contacts", contacts[200]!.id as string);
  emulator.update("companies", companies[5]!.id as string, { industry: "RETAIL" });
  emulator.archiveOwner(owners[0]!.id as string);
  emulator.updateOwner(owners[1]!.id as string, { lastName: "Renamed" });
  emulator.createOwner();
  const changedAt = Date.now();
  await waitConverged(syncId, "live changes");
  const seconds = (Date.now() - changedAt) / 1000;
  assert.ok(seconds < 10, `live changes took ${seconds} s`);
  const { rows } = await api.store.pool.query(
    "select upstream_id, deleted from sequin_records where sync_id = $1 and upstream_id = any($2) order by upstream_id",
    [syncId, [contacts[11]!.id, contacts[21]!.id]],
  );
  assert.deepEqual(
    rows.map((r) => r.deleted),
    [true, true],
  );

  const ours = emulator.requests.filter((r) => r.install === token);
  assert.ok(busiestWindow(ours, 1000) <= allotment, `busiest second: ${busiestWindow(ours, 1000)}`);
  assert.ok(
    busiestWindow(ours, 10_000) <= 10 * allotment,
    `busiest ten seconds: ${busiestWindow(ours, 10_000)}`,
  );
  assert.ok(
    busiestWindow(
      ours.filter((r) => r.search),
      1000,
    ) <= 4,
    "searches within HubSpot's search limit",
  );
  assert.equal(ours.filter((r) => r.status === 429 || r.status === 400).length, 0);
});

test("a token revoked later: failing, one alert, no storm; a new token through PATCH: live again, one recovery", async () => {
  const token = emulator.createPrivateApp();
  const created = await createHubSpotSync("hubspot-revoked-later", { access_token: token });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const syncId = created.body.id as string;
  await waitFor("live", async () => (await state(syncId)).state === "live");
  emulator.revoke(token);
  const failing = await waitFor("failing", async () => {
    const source = await state(syncId);
    return source.state === "failing" ? source : undefined;
  });
  assert.equal(failing.last_error.kind, "refused");
  const credential = failing.health.checks.find((c: { name: string }) => c.name === "credential");
  assert.equal(credential.status, "unhealthy");
  assert.match(credential.error, /hubspot refused .*Authentication credentials not found/);
  const alert = await waitFor("the sync's alert", () =>
    webhook.received.find((r) => r.json.entity.kind === "sync" && r.json.entity.id === syncId),
  );
  assert.equal(alert.json.event, "sync.unhealthy");
  const refusedAt = emulator.requests.filter((r) => r.install === token && r.status === 401).length;
  await new Promise((resolve) => setTimeout(resolve, 6000));
  const retries = emulator.requests.filter((r) => r.install === token && r.status === 401).length - refusedAt;
  assert.ok(retries <= 3, `${retries} requests with the revoked token in 6 s`);
  assert.equal(
    webhook.received.filter((r) => r.json.entity.kind === "sync" && r.json.entity.id === syncId).length,
    1,
  );

  const fresh = emulator.createPrivateApp();
  const patched = await api.request("PATCH", `/v1/syncs/${syncId}`, {
    body: { source: { credentials: { access_token: fresh } } },
  });
  assert.equal(patched.status, 200, JSON.stringify(patched.body));
  emulator.create("deals", { dealname: "After the new token" });
  await waitConverged(syncId, "the sync with its new token");
  await waitFor("live again", async () => (await state(syncId)).state === "live");
  const recovered = await waitFor("the recovery alert", () =>
    webhook.received.find((r) => r.json.entity.id === syncId && r.json.event === "sync.recovered"),
  );
  assert.equal(recovered.json.entity.status, "healthy");
});

test("a spent daily quota: failing (the provider check names it), then live again when the day turns", async () => {
  const token = emulator.createPrivateApp();
  const created = await createHubSpotSync("hubspot-daily", { access_token: token });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const syncId = created.body.id as string;
  await waitFor("live", async () => (await state(syncId)).state === "live");
  emulator.setLimits({ daily: 0 }, token);
  const failing = await waitFor("failing", async () => {
    const source = await state(syncId);
    return source.state === "failing" ? source : undefined;
  });
  assert.equal(failing.last_error.kind, "unavailable");
  const provider = failing.health.checks.find((c: { name: string }) => c.name === "provider");
  assert.equal(provider.status, "unhealthy");
  assert.match(provider.error, /daily limit/);
  const alert = await waitFor("the sync's alert", () =>
    webhook.received.find((r) => r.json.entity.kind === "sync" && r.json.entity.id === syncId),
  );
  assert.equal(alert.json.event, "sync.unhealthy");
  assert.equal(alert.json.entity.failing[0]?.name, "provider");
  // the same in /metrics: failing, unhealthy, HubSpot's 429s counted as throttled
  await waitSyncSeries(
    api.url,
    "hubspot-daily",
    "hubspot",
    (s) => s.state === "failing" && s.healthy === 0 && (s.throttled ?? 0) > 0 && (s.requests ?? 0) > 0,
    "the quota spent in /metrics",
  );
  emulator.setLimits({ daily: 250_000 }, token);
  const deal = emulator.create("deals", { dealname: "After midnight" });
  await waitFor("live again", async () => (await state(syncId)).state === "live", 30_000);
  await waitFor(
    "the change made after the quota came back",
    async () => (await streamOf(syncId, "deals")).has(deal.id as string),
    30_000,
  );
  await waitFor("the recovery alert", () =>
    webhook.received.find((r) => r.json.entity.id === syncId && r.json.event === "sync.recovered"),
  );
  assert.equal(
    webhook.received.filter((r) => r.json.entity.id === syncId && r.json.event === "sync.unhealthy").length,
    1,
  );
  await waitSyncSeries(
    api.url,
    "hubspot-daily",
    "hubspot",
    (s) => s.state === "live" && s.healthy === 1,
    "live and healthy again in /metrics",
  );
});

test("an OAuth app's sync: access tokens renewed from the refresh token, no 401 needed", async () => {
  const app = emulator.createOAuthApp();
  const created = await createHubSpotSync("hubspot-oauth", {
    refresh_token: app.refreshToken,
    client_id: app.clientId,
    client_secret: app.clientSecret,
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const syncId = created.body.id as string;
  const contact = emulator.create("contacts", { email: "oauth@example.com" });
  await waitConverged(syncId, "the OAuth sync");
  assert.ok((await streamOf(syncId, "contacts")).has(contact.id as string));
  assert.ok(emulator.refreshes(app.refreshToken) >= 1);
  assert.equal(emulator.requests.filter((r) => r.install === app.refreshToken && r.status === 401).length, 0);
});

test("paused past HubSpot's 90-day recycle bin: it reads everything again and deletes what was purged", async () => {
  const portal = await startHubSpotEmulator();
  const deals = Array.from({ length: 30 }, (_, i) => portal.create("deals", { dealname: `Kept ${i}` }));
  const created = await api.request("POST", "/v1/syncs", {
    body: {
      name: "hubspot-horizon",
      provider: "hubspot",
      collections: ["deals"],
      source: {
        credentials: { access_token: portal.createPrivateApp() },
        base_url: portal.baseUrl,
        poll_interval_seconds: 0.25,
      },
    },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const syncId = created.body.id as string;
  const equal = async () => {
    const stream = await streamOf(syncId, "deals");
    const live = portal.all("deals");
    return stream.size === live.length && live.every((d) => isDeepStrictEqual(stream.get(d.id as string), d));
  };
  await waitFor("the backfill", equal);
  await waitFor("live", async () => (await state(syncId)).state === "live");
  assert.equal((await api.request("POST", `/v1/syncs/${syncId}/pause`)).status, 200);
  await waitFor("the runner to stop", async () => (await state(syncId)).worker_id === null);
  // archived while paused, then purged from the recycle bin: no list shows them any more
  portal.archive("deals", deals[0]!.id as string);
  portal.archive("deals", deals[1]!.id as string);
  portal.clock.advance(91 * DAY_MS);
  portal.update("deals", deals[2]!.id as string, { dealname: "Changed after the horizon" });
  assert.equal((await api.request("POST", `/v1/syncs/${syncId}/resume`)).status, 200);
  await waitFor("the re-backfill", equal, 45_000);
  const { rows } = await api.store.pool.query(
    "select deleted from sequin_records where sync_id = $1 and upstream_id = any($2)",
    [syncId, [deals[0]!.id, deals[1]!.id]],
  );
  assert.deepEqual(rows, [{ deleted: true }, { deleted: true }]);
  await waitFor("the re-backfill to end", async () => {
    const source = await state(syncId);
    return source.rebackfill === null && source.state === "live";
  });
});
