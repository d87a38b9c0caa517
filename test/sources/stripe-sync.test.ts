/**
 * A sync that pulls Stripe, end to end through the API, against the stateful Stripe emulator: a wrong key
 * is refused at creation with Stripe's reason; the backfill (with changes made while it runs) and then live
 * changes and deletes leave the stream equal to Stripe's live objects, payloads as the API returns them now;
 * the allotment holds in every one-second window Stripe saw; a sync paused past Stripe's 30-day event
 * horizon reads everything again when resumed and deletes what no longer exists; a key revoked later makes
 * the sync failing with one alert, retried with backoff, not in a storm; at the default poll interval a
 * change reaches the stream in p50 < 1 s, p99 < 2 s.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { isDeepStrictEqual } from "node:util";
import {
  busiestWindow,
  DAY_MS,
  type StripeEmulator,
  startStripeEmulator,
} from "../emulators/stripe/index.js";
import { startWebhookReceiver } from "../helpers/alert-receivers.js";
import { startTestService, type TestService } from "../helpers/service.js";
import { waitFor } from "../helpers/wait.js";

const emulator = await startStripeEmulator({ rateLimitPerSecond: 100 });
const webhook = await startWebhookReceiver();
const api = await startTestService({
  SEQUIN_LEASE_SECONDS: "3",
  SEQUIN_ALERT_WEBHOOK_URL: webhook.url,
  SEQUIN_ALERT_SETTLE_SECONDS: "1",
});

/** Emulator collection → the collection records carry. */
const pulled = { customers: "customer", products: "product", subscriptions: "subscription" } as const;

async function createStripeSync(name: string, key: string, extra: Record<string, unknown> = {}) {
  return api.request("POST", "/v1/syncs", {
    body: {
      name,
      provider: "stripe",
      collections: Object.values(pulled),
      source: {
        credentials: { api_key: key },
        base_url: `http://${emulator.host}:${emulator.port}`,
        max_requests_per_second: 20,
        poll_interval_seconds: 0.25,
        ...extra,
      },
    },
  });
}

/** The stream's live records of a collection: upstream id → payload. */
async function streamOf(service: TestService, syncId: string, collection: string) {
  const { rows } = await service.store.pool.query<{ upstream_id: string; payload: unknown }>(
    "select upstream_id, payload from sequin_records where sync_id = $1 and collection_id = $2 and not deleted",
    [syncId, collection],
  );
  return new Map(rows.map((r) => [r.upstream_id, r.payload]));
}

/** Whether the stream holds exactly Stripe's live objects, as the API returns them now. */
async function converged(stripe: StripeEmulator, syncId: string): Promise<true | string> {
  for (const [emulated, collection] of Object.entries(pulled)) {
    const live = stripe.all(emulated as keyof typeof pulled);
    const stream = await streamOf(api, syncId, collection);
    if (stream.size !== live.length)
      return `${collection}: ${stream.size} in the stream, ${live.length} in Stripe`;
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

async function waitConverged(syncId: string, what: string, timeoutMs = 30_000) {
  let last = "";
  await waitFor(
    what,
    async () => {
      const result = await converged(emulator, syncId);
      if (result === true) return true;
      last = result;
      return false;
    },
    timeoutMs,
  ).catch((error: Error) => {
    throw new Error(`${error.message} (${last})`);
  });
}

test("a wrong key is refused at creation with Stripe's reason; nothing is saved", async () => {
  const revoked = emulator.createKey();
  emulator.revokeKey(revoked);
  const refused = await createStripeSync("stripe-revoked", revoked);
  assert.equal(refused.status, 422, JSON.stringify(refused.body));
  assert.equal(refused.body.code, "provider_refused");
  assert.match(
    refused.body.validation_errors["source.credentials"][0],
    /^stripe refused it: .*(API key|api key)/i,
  );
  assert.doesNotMatch(JSON.stringify(refused.body), new RegExp(revoked));
  const malformed = await createStripeSync("stripe-malformed", "not-a-key");
  assert.equal(malformed.status, 400);
  assert.match(malformed.body.validation_errors["source.credentials.api_key"][0], /Stripe secret key/);
  const unknownSetting = await createStripeSync("stripe-setting", emulator.createKey(), {
    settings: { repositories: ["a/b"] },
  });
  assert.equal(unknownSetting.status, 400);
  assert.match(
    unknownSetting.body.validation_errors["source.settings.repositories"][0],
    /not a Stripe setting/,
  );
  const syncs = (await api.request("GET", "/v1/syncs")).body.data as { name: string }[];
  assert.deepEqual(
    syncs.filter((s) => s.name.startsWith("stripe-")),
    [],
  );
});

test("backfill with changes meanwhile, then live changes and deletes: the stream equals Stripe", async () => {
  const customers = Array.from({ length: 260 }, (_, i) =>
    emulator.create("customers", { email: `c${i}@example.com`, name: `Customer ${i}` }),
  );
  const products = Array.from({ length: 30 }, (_, i) =>
    emulator.create("products", { name: `Product ${i}` }),
  );
  const price = emulator.create("prices", { product: products[0]!.id, unit_amount: 1000, currency: "usd" });
  const subscriptions = customers.slice(0, 5).map((c) =>
    emulator.create("subscriptions", {
      customer: c.id,
      items: { object: "list", data: [{ price: price.id }] },
    }),
  );
  emulator.remove("subscriptions", subscriptions[0]!.id as string); // canceled: kept, as status=all shows it

  const key = emulator.createKey();
  const created = await createStripeSync("stripe-main", key);
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const sync = created.body as { id: string; source: { state: string; provider: string } };
  assert.equal(sync.source.provider, "stripe");
  assert.doesNotMatch(JSON.stringify(sync), new RegExp(key));

  // changes while the backfill runs: an update, a delete, a new object
  emulator.update("customers", customers[3]!.id as string, { name: "Renamed during backfill" });
  emulator.remove("customers", customers[250]!.id as string);
  emulator.create("customers", { email: "new@example.com" });
  await waitConverged(sync.id, "the backfill and the changes made meanwhile");
  const view = await waitFor("live", async () => {
    const s = (await api.request("GET", `/v1/syncs/${sync.id}`)).body;
    return s.source.state === "live" ? s.source : undefined;
  });
  assert.deepEqual(
    view.collections.map((c: { collection_id: string; records: number }) => [c.collection_id, c.records]),
    [
      ["customer", 260],
      ["product", 30],
      ["subscription", 5],
    ],
  );
  assert.ok(view.requests > 0);
  assert.equal(view.last_error, null);
  const workers = (await api.request("GET", "/v1/workers")).body.data as { id: string; syncs: number }[];
  assert.equal(workers.find((w) => w.id === view.worker_id)?.syncs, 1, "the worker counts the sync it runs");

  // live: a burst of changes to one object within one second, a delete, a creation
  const target = customers[10]!.id as string;
  for (let i = 0; i < 5; i++) emulator.update("customers", target, { name: `Burst ${i}` });
  emulator.remove("customers", customers[11]!.id as string);
  emulator.remove("products", products[5]!.id as string);
  emulator.create("products", { name: "Brand new" });
  const changedAt = Date.now();
  await waitConverged(sync.id, "live changes");
  const seconds = (Date.now() - changedAt) / 1000;
  assert.ok(seconds < 5, `live changes took ${seconds} s`);
  const deleted = await api.store.pool.query(
    "select deleted from sequin_records where sync_id = $1 and upstream_id = $2",
    [sync.id, customers[11]!.id],
  );
  assert.deepEqual(deleted.rows, [{ deleted: true }]);

  // metrics per sync (from the health round's snapshot, at most a round old)
  const metrics = await waitFor("the sync's metrics", async () => {
    const text = await fetch(`${api.url}/metrics`).then((r) => r.text());
    return /^sequin_sync_state\{sync="stripe-main",provider="stripe",state="live"\} 1$/m.test(text)
      ? text
      : undefined;
  });
  const requestsSeen = /^sequin_sync_requests_total\{sync="stripe-main",provider="stripe"\} (\d+)$/m.exec(
    metrics,
  );
  assert.ok(requestsSeen && Number(requestsSeen[1]) > 0, "sequin_sync_requests_total for the sync");
  assert.match(metrics, /^sequin_sync_poll_age_seconds\{sync="stripe-main",provider="stripe"\} \d/m);

  // the allotment (20 a second) held in every one-second window Stripe saw for this key
  const ours = emulator.requests.filter((r) => r.key === key);
  assert.ok(ours.length > 10);
  assert.ok(busiestWindow(ours, 1000) <= 20, `busiest second: ${busiestWindow(ours, 1000)}`);
});

test("paused past Stripe's 30-day horizon, or asked to: it reads everything again and deletes what is gone", async () => {
  const key = emulator.createKey();
  const created = await createStripeSync("stripe-horizon", key);
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const syncId = created.body.id as string;
  await waitConverged(syncId, "the first backfill");
  await waitFor("live", async () => {
    const s = (await api.request("GET", `/v1/syncs/${syncId}`)).body;
    return s.source.state === "live";
  });
  const paused = await api.request("POST", `/v1/syncs/${syncId}/pause`);
  assert.equal(paused.status, 200);
  assert.equal(paused.body.source.state, "paused");
  await waitFor("the runner to stop", async () => {
    const s = (await api.request("GET", `/v1/syncs/${syncId}`)).body;
    return s.source.worker_id === null;
  });

  // while it is paused: deletes and changes, then 31 days pass and their events are purged
  const live = emulator.all("customers");
  emulator.remove("customers", live[0]!.id as string);
  emulator.remove("customers", live[1]!.id as string);
  emulator.update("customers", live[2]!.id as string, { name: "Changed while paused" });
  emulator.clock.advance(31 * DAY_MS);
  emulator.update("customers", live[3]!.id as string, { name: "Changed after the horizon" });

  const resumed = await api.request("POST", `/v1/syncs/${syncId}/resume`);
  assert.equal(resumed.status, 200);
  await waitConverged(syncId, "the re-backfill after the horizon", 60_000);
  const { rows } = await api.store.pool.query(
    "select deleted from sequin_records where sync_id = $1 and upstream_id = any($2) order by upstream_id",
    [syncId, [live[0]!.id, live[1]!.id]],
  );
  assert.deepEqual(rows, [{ deleted: true }, { deleted: true }]);

  // a delete Stripe sent no event for is repaired by reading everything again on request
  const silent = emulator.all("customers")[0]!.id as string;
  emulator.remove("customers", silent, { silent: true });
  await new Promise((resolve) => setTimeout(resolve, 1000));
  assert.equal((await streamOf(api, syncId, "customer")).has(silent), true, "no event: still in the stream");
  const versions = async () => {
    const { rows } = await api.store.pool.query<{ upstream_id: string; version: string }>(
      "select upstream_id, txid::text || '/' || position::text as version from sequin_records where sync_id = $1 and not deleted",
      [syncId],
    );
    return new Map(rows.map((r) => [r.upstream_id, r.version]));
  };
  const before = await versions();
  const asked = await api.request("POST", `/v1/syncs/${syncId}/backfill`);
  assert.equal(asked.status, 202);
  await waitConverged(syncId, "the re-backfill asked for", 60_000);
  await waitFor("the re-backfill to end", async () => {
    const source = (await api.request("GET", `/v1/syncs/${syncId}`)).body.source;
    return source.rebackfill === null && source.state === "live";
  });
  // reading an unchanged object again is no change: consumers are not made to write every row again
  const after = await versions();
  before.delete(silent);
  assert.ok(before.size > 10, `objects to compare: ${before.size}`);
  for (const [id, version] of before)
    assert.equal(after.get(id), version, `${id} was read again unchanged, yet got a new version`);
});

test("a key revoked later: failing, one alert, no storm; a new key through PATCH: live again, one recovery", async () => {
  const key = emulator.createKey();
  const created = await createStripeSync("stripe-revoked-later", key);
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const syncId = created.body.id as string;
  await waitFor(
    "live",
    async () => (await api.request("GET", `/v1/syncs/${syncId}`)).body.source.state === "live",
  );
  emulator.revokeKey(key);
  const failing = await waitFor("failing", async () => {
    const source = (await api.request("GET", `/v1/syncs/${syncId}`)).body.source;
    return source.state === "failing" ? source : undefined;
  });
  assert.equal(failing.last_error.kind, "refused");
  const credential = failing.health.checks.find((c: { name: string }) => c.name === "credential");
  assert.equal(credential.status, "unhealthy");
  assert.match(credential.error, /stripe refused .*: .*(API key|api key)/i);
  const alert = await waitFor("the sync's alert", () =>
    webhook.received.find((r) => r.json.entity.kind === "sync" && r.json.entity.id === syncId),
  );
  assert.equal(alert.json.event, "sync.unhealthy");
  assert.equal(alert.json.entity.failing[0]?.name, "credential");
  // over the next 8 s: retries back off (2 s, 4 s, 8 s …), and no second alert
  const refusedAt = emulator.requests.filter((r) => r.key === key && r.status === 401).length;
  await new Promise((resolve) => setTimeout(resolve, 8000));
  const retries = emulator.requests.filter((r) => r.key === key && r.status === 401).length - refusedAt;
  assert.ok(retries <= 4, `${retries} requests with the revoked key in 8 s`);
  assert.equal(
    webhook.received.filter((r) => r.json.entity.kind === "sync" && r.json.entity.id === syncId).length,
    1,
  );

  // a new key: refused ones change nothing; an accepted one is saved and the sync recovers, alerting once
  const stillRevoked = await api.request("PATCH", `/v1/syncs/${syncId}`, {
    body: { source: { credentials: { api_key: key } } },
  });
  assert.equal(stillRevoked.status, 422);
  assert.equal(stillRevoked.body.code, "provider_refused");
  const fresh = emulator.createKey();
  const patched = await api.request("PATCH", `/v1/syncs/${syncId}`, {
    body: { source: { credentials: { api_key: fresh }, poll_interval_seconds: 0.3 } },
  });
  assert.equal(patched.status, 200, JSON.stringify(patched.body));
  assert.equal(patched.body.source.poll_interval_seconds, 0.3);
  emulator.create("customers", { email: "after-the-new-key@example.com" });
  await waitConverged(syncId, "the sync with its new key");
  await waitFor(
    "live again",
    async () => (await api.request("GET", `/v1/syncs/${syncId}`)).body.source.state === "live",
  );
  const recovered = await waitFor("the recovery alert", () =>
    webhook.received.find((r) => r.json.entity.id === syncId && r.json.event === "sync.recovered"),
  );
  assert.equal(recovered.json.entity.status, "healthy");
  assert.ok(emulator.requests.some((r) => r.key === fresh && r.status === 200));
});

test("live latency at the default poll interval: a change reaches the stream in p50 < 1 s, p99 < 2 s", async () => {
  const key = emulator.createKey();
  const created = await api.request("POST", "/v1/syncs", {
    body: {
      name: "stripe-latency",
      provider: "stripe",
      collections: ["customer"],
      source: { credentials: { api_key: key }, base_url: `http://${emulator.host}:${emulator.port}` },
    },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const syncId = created.body.id as string;
  assert.equal(created.body.source.poll_interval_seconds, 0.5);
  await waitFor(
    "live",
    async () => (await api.request("GET", `/v1/syncs/${syncId}`)).body.source.state === "live",
  );
  const customer = emulator.create("customers", { email: "latency@example.com" });
  const id = customer.id as string;
  const latencies: number[] = [];
  for (let i = 0; i < 25; i++) {
    const name = `latency ${i}`;
    emulator.update("customers", id, { name });
    const changedAt = Date.now();
    await waitFor(
      `change ${i} in the stream`,
      async () => {
        const { rows } = await api.store.pool.query(
          "select 1 from sequin_records where sync_id = $1 and upstream_id = $2 and payload->>'name' = $3",
          [syncId, id, name],
        );
        return rows.length === 1;
      },
      10_000,
    );
    latencies.push(Date.now() - changedAt);
    // changes land at random points of the poll cycle
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 300));
  }
  latencies.sort((a, b) => a - b);
  const p50 = latencies[Math.floor(latencies.length / 2)]!;
  const p99 = latencies[Math.ceil(latencies.length * 0.99) - 1]!;
  console.log(`stripe live latency: p50 ${p50} ms, p99 ${p99} ms over ${latencies.length} changes`);
  assert.ok(p50 < 1000, `p50 ${p50} ms`);
  assert.ok(p99 < 2000, `p99 ${p99} ms`);
});

test("Connect: a sync with stripe_account pulls the connected account's objects, and only those", async () => {
  const account = emulator.connectAccount();
  const theirs = Array.from({ length: 12 }, (_, i) =>
    emulator.create("customers", { email: `connected${i}@example.com` }, { account }),
  );
  const created = await api.request("POST", "/v1/syncs", {
    body: {
      name: "stripe-connected",
      provider: "stripe",
      collections: ["customer"],
      source: {
        credentials: { api_key: emulator.createKey(), stripe_account: account },
        base_url: `http://${emulator.host}:${emulator.port}`,
        poll_interval_seconds: 0.25,
      },
    },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const syncId = created.body.id as string;
  emulator.update(
    "customers",
    theirs[0]!.id as string,
    { name: "Changed in the connected account" },
    { account },
  );
  await waitFor("the connected account's customers", async () => {
    const stream = await streamOf(api, syncId, "customer");
    const live = emulator.all("customers", { account });
    return stream.size === live.length && live.every((c) => isDeepStrictEqual(stream.get(c.id as string), c));
  });
  const platformIds = new Set(emulator.all("customers").map((c) => c.id));
  const stream = await streamOf(api, syncId, "customer");
  assert.equal(
    [...stream.keys()].filter((id) => platformIds.has(id)).length,
    0,
    "no platform customer pulled",
  );

  // a collection added later is backfilled; one Stripe does not have is refused
  const refused = await api.request("PATCH", `/v1/syncs/${syncId}`, {
    body: { collections: ["customer", "widget"] },
  });
  assert.equal(refused.status, 400);
  assert.match(refused.body.validation_errors["collections[1]"][0], /stripe has no collection "widget"/);
  const product = emulator.create("products", { name: "Connected product" }, { account });
  const added = await api.request("PATCH", `/v1/syncs/${syncId}`, {
    body: { collections: ["customer", "product"] },
  });
  assert.equal(added.status, 200, JSON.stringify(added.body));
  await waitFor("the added collection", async () => {
    const products = await streamOf(api, syncId, "product");
    return (
      products.size === 1 &&
      isDeepStrictEqual(products.get(product.id as string), emulator.all("products", { account })[0])
    );
  });
});
