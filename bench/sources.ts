/**
 * Sources benchmark: a Stripe backfill at an allotment of 100 requests per second, against the theoretical
 * minimum of the same run (list pages ÷ allotment), and side by side with `@supabase/stripe-sync-engine`
 * 0.48.5 on the same Stripe emulator and the same budget; then one mutation script (creates, updates,
 * deletes, bursts within one second) and the correctness of both afterwards. See docs/benchmarks.md.
 *
 *   ours   a sync with a Stripe source (`max_requests_per_second` = the allotment), run by a real
 *          SourceWorker in this process on a throwaway store; timed from its creation (the credential check
 *          included) until every collection's backfill is done and the stream holds every object. After the
 *          mutation script: the time until the stream equals the emulator's live objects exactly.
 *   peer   StripeSync of `@supabase/stripe-sync-engine` on a database of its own (migrated by its CommonJS
 *          build: its ES module build cannot find its migrations), its `stripe` client replaced by one
 *          pointed at the emulator (the same SDK options as its own, plus host, port and protocol), its own key
 *          limited to the same rate by the emulator (it gets 429s if it goes faster). Backfill: `syncBackfill`
 *          per object. Changes: the mutation script's events as webhooks, signed as Stripe signs them, at the
 *          pace the script made them, to three copies of its backfilled database: as webhooks really arrive
 *          (each may be overtaken by later ones, one in ten delivered twice, 4 in flight at once); the same
 *          with its `revalidateObjectsViaStripeApi` option (every webhook a trigger to read the object again);
 *          and in order, once each (no reordering, no duplicates). Failed deliveries are retried, as Stripe retries them.
 *
 * Correctness: for ours, payloads equal the emulator's objects exactly; for the peer, every column of its
 * tables equals the object's field. Missing, extra (deleted in Stripe, still there) and stale are counted.
 * The run exits non-zero only when OUR stream is not exact or our allotment was exceeded.
 *
 *   npm run bench:sources                         50,000 objects, allotment 100/s
 *   npm run bench:sources -- --quick              2,000 objects: a smoke run
 *   npm run bench:sources -- --objects 20000 --rate 50
 */
import { createHmac, randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import { StripeSync, type StripeSyncConfig } from "@supabase/stripe-sync-engine";
import pg from "pg";
import pino from "pino";
import Stripe from "stripe";
import { migrate } from "../src/db/migrate.js";
import { createStorePool } from "../src/db/pool.js";
import { withTransaction } from "../src/db/transaction.js";
import { Sources, SourceWorker } from "../src/sources/index.js";
import { createSync } from "../src/stream/index.js";
import { Vault } from "../src/vault/index.js";
import { beatMsFor, WorkOwnership } from "../src/work/index.js";
import {
  busiestWindow,
  type CollectionName,
  type JsonObject,
  type LoggedRequest,
  type StripeEmulator,
  startStripeEmulator,
} from "../test/emulators/stripe/index.js";
import { loadNote, machineFacts, seededRandom, startBenchCluster } from "./bench-helpers.js";
import { printTable } from "./consumer-bench-helpers.js";
import { allotment, canonical, fmt, parseFlags, positiveWholeNumber, waitUntil } from "./source-bench.js";

// ---------------------------------------------------------------------------------------------------------
// Flags

const flagSpecs = [
  { name: "objects", default: 50_000, quickDefault: 2_000, parse: positiveWholeNumber },
  // Stripe's own limit is 100 requests a second
  { name: "rate", default: 100, parse: allotment(100, positiveWholeNumber) },
] as const;

// ---------------------------------------------------------------------------------------------------------
// The account: collections, their share of the objects, and how each engine names them

interface Pulled {
  /** The emulator's collection (list path). */
  emulated: CollectionName;
  /** Our collection id (Stripe's `object`). */
  ours: string;
  /** The peer's `syncBackfill` object and its table. */
  peerObject: "customer" | "product" | "price" | "payment_intent";
  peerTable: string;
  share: number;
}

const pulled: Pulled[] = [
  { emulated: "customers", ours: "customer", peerObject: "customer", peerTable: "customers", share: 0.4 },
  { emulated: "products", ours: "product", peerObject: "product", peerTable: "products", share: 0.2 },
  { emulated: "prices", ours: "price", peerObject: "price", peerTable: "prices", share: 0.2 },
  {
    emulated: "payment_intents",
    ours: "payment_intent",
    peerObject: "payment_intent",
    peerTable: "payment_intents",
    share: 0.2,
  },
];

/** Splits `total` over the collections by share (the last takes the rounding). */
function counts(total: number): Map<CollectionName, number> {
  const out = new Map<CollectionName, number>();
  let left = total;
  pulled.forEach((p, i) => {
    const n = i === pulled.length - 1 ? left : Math.round(total * p.share);
    out.set(p.emulated, n);
    left -= n;
  });
  return out;
}

/** Fills the emulator without events (an account's history is older than Stripe's 30 days of events). */
function fillAccount(emulator: StripeEmulator, total: number): void {
  const random = seededRandom(7);
  const now = Math.floor(Date.now() / 1000);
  const n = counts(total);
  const span = 365 * 24 * 3600;
  const at = (i: number, of: number) => now - span + Math.floor((span * i) / Math.max(of, 1)) - 86_400;
  const customers: string[] = [];
  const products: string[] = [];
  const nc = n.get("customers")!;
  for (let i = 0; i < nc; i++) {
    const c = emulator.create(
      "customers",
      {
        email: `customer${i}@example.com`,
        name: `Customer ${i}`,
        description: random() < 0.3 ? `account ${Math.floor(random() * 1e6)}` : null,
        metadata: { plan: random() < 0.5 ? "pro" : "team", region: random() < 0.5 ? "eu" : "us" },
        balance: Math.floor(random() * 1000),
      },
      { silent: true, at: at(i, nc) },
    );
    customers.push(c.id as string);
  }
  const np = n.get("products")!;
  for (let i = 0; i < np; i++) {
    const p = emulator.create(
      "products",
      { name: `Product ${i}`, description: `Product number ${i}`, metadata: { sku: `SKU-${i}` } },
      { silent: true, at: at(i, np) },
    );
    products.push(p.id as string);
  }
  const npr = n.get("prices")!;
  for (let i = 0; i < npr; i++) {
    const amount = 100 * (1 + Math.floor(random() * 100));
    emulator.create(
      "prices",
      {
        product: products[i % Math.max(products.length, 1)] ?? null,
        unit_amount: amount,
        unit_amount_decimal: String(amount),
        nickname: `Price ${i}`,
      },
      { silent: true, at: at(i, npr) },
    );
  }
  const npi = n.get("payment_intents")!;
  for (let i = 0; i < npi; i++) {
    emulator.create(
      "payment_intents",
      {
        amount: 500 + Math.floor(random() * 10_000),
        customer: customers[i % Math.max(customers.length, 1)] ?? null,
        description: `Order ${i}`,
      },
      { silent: true, at: at(i, npi) },
    );
  }
}

// ---------------------------------------------------------------------------------------------------------
// The mutation script

interface ScriptStats {
  creates: number;
  updates: number;
  deletes: number;
  bursts: number;
  events: number;
}

/**
 * Creates, updates (some of objects just created), deletes (some of objects just updated) and bursts of
 * updates to one object within one second, in `rounds` rounds ~250 ms apart. Deterministic.
 */
async function mutationScript(
  emulator: StripeEmulator,
  live: Live,
  total: number,
): Promise<{ stats: ScriptStats; after: Live }> {
  // the live objects after the script, from the emulator's own answers to each change (reading them all
  // back pages through every object, which would hold this process, our worker included, for seconds)
  const after: Live = new Map([...live].map(([collection, objects]) => [collection, new Map(objects)]));
  const create = (c: CollectionName, fields: JsonObject) => {
    const object = emulator.create(c, fields);
    after.get(c)!.set(object.id as string, object);
    return object;
  };
  const update = (c: CollectionName, id: string, fields: JsonObject) => {
    after.get(c)!.set(id, emulator.update(c, id, fields));
  };
  const remove = (c: CollectionName, id: string) => {
    emulator.remove(c, id);
    after.get(c)!.delete(id);
  };
  const random = seededRandom(11);
  const scale = Math.max(1, Math.round(total / 5000));
  const rounds = 20;
  const stats: ScriptStats = { creates: 0, updates: 0, deletes: 0, bursts: 0, events: 0 };
  const ids = new Map<CollectionName, string[]>(
    [...live].map(([collection, objects]) => [collection, [...objects.keys()]]),
  );
  const pick = (c: CollectionName): string | undefined => {
    const list = ids.get(c)!;
    return list.length ? list[Math.floor(random() * list.length)] : undefined;
  };
  const forget = (c: CollectionName, id: string) => {
    const list = ids.get(c)!;
    const i = list.indexOf(id);
    if (i >= 0) list.splice(i, 1);
  };
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < 2 * scale; k++) {
      const c = create("customers", {
        email: `new${round}-${k}@example.com`,
        name: `New ${round}-${k}`,
      });
      ids.get("customers")!.push(c.id as string);
      stats.creates++;
      if (random() < 0.5) {
        update("customers", c.id as string, { name: `Renamed ${round}-${k}` });
        stats.updates++;
      }
    }
    if (round % 2 === 0) {
      const p = create("products", { name: `New product ${round}` });
      ids.get("products")!.push(p.id as string);
      stats.creates++;
    }
    for (let k = 0; k < 4 * scale; k++) {
      const id = pick("customers");
      if (!id) break;
      update("customers", id, {
        email: `changed${round}-${k}@example.com`,
        metadata: { plan: random() < 0.5 ? "enterprise" : "free" },
      });
      stats.updates++;
    }
    for (let k = 0; k < scale; k++) {
      const product = pick("products");
      if (product) {
        update("products", product, {
          name: `Product renamed ${round}-${k}`,
          active: random() < 0.8,
        });
        stats.updates++;
      }
      const price = pick("prices");
      if (price) {
        update("prices", price, { nickname: `Repriced ${round}-${k}` });
        stats.updates++;
      }
    }
    for (let k = 0; k < scale; k++) {
      const id = pick("customers");
      if (!id) break;
      // updated, then deleted in the same second: the delete must win
      update("customers", id, { description: "about to go" });
      remove("customers", id);
      forget("customers", id);
      stats.updates++;
      stats.deletes++;
    }
    if (round % 4 === 1) {
      const id = pick("products");
      if (id) {
        update("products", id, { description: "last words" });
        remove("products", id);
        forget("products", id);
        stats.updates++;
        stats.deletes++;
      }
    }
    // a burst: one customer changed 5 times within one second; only the last state is right
    const burst = pick("customers");
    if (burst) {
      for (let i = 0; i < 5; i++) update("customers", burst, { name: `Burst ${round}.${i}` });
      stats.bursts++;
      stats.updates += 5;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return { stats, after };
}

// ---------------------------------------------------------------------------------------------------------
// Comparing with the emulator's live objects

interface Difference {
  missing: number;
  extra: number;
  stale: number;
  /** A few examples, for the report. */
  examples: string[];
}

function compare(
  live: Map<string, JsonObject>,
  stored: Map<string, unknown>,
  /** Undefined when equal, else what differs. */
  differs: (object: JsonObject, row: unknown) => string | undefined,
  label: string,
  into: Difference,
): void {
  for (const [id, object] of live) {
    const row = stored.get(id);
    if (row === undefined) {
      into.missing++;
      if (into.examples.length < 6) into.examples.push(`${label} ${id} missing`);
    } else {
      const what = differs(object, row);
      if (what === undefined) continue;
      into.stale++;
      if (into.examples.length < 6) into.examples.push(`${label} ${id} stale (${what})`);
    }
  }
  for (const id of stored.keys())
    if (!live.has(id)) {
      into.extra++;
      if (into.examples.length < 6) into.examples.push(`${label} ${id} extra`);
    }
}

/** The emulator's live objects of each collection, read once (reading them pages through every object). */
type Live = Map<CollectionName, Map<string, JsonObject>>;

function liveNow(emulator: StripeEmulator): Live {
  return new Map(
    pulled.map((p) => [p.emulated, new Map(emulator.all(p.emulated).map((o) => [o.id as string, o]))]),
  );
}

async function oursDifference(live: Live, store: pg.Pool, syncId: string): Promise<Difference> {
  const diff: Difference = { missing: 0, extra: 0, stale: 0, examples: [] };
  for (const p of pulled) {
    const { rows } = await store.query<{ upstream_id: string; payload: unknown }>(
      "select upstream_id, payload from sequin_records where sync_id = $1 and collection_id = $2 and not deleted",
      [syncId, p.ours],
    );
    compare(
      live.get(p.emulated)!,
      new Map(rows.map((r) => [r.upstream_id, r.payload])),
      (object, payload) => (canonical(object) === canonical(payload) ? undefined : "payload"),
      p.ours,
      diff,
    );
  }
  return diff;
}

/** The peer's columns of each table (its schema's properties, read from the table itself). */
async function peerDifference(live: Live, peer: pg.Pool): Promise<Difference> {
  const diff: Difference = { missing: 0, extra: 0, stale: 0, examples: [] };
  for (const p of pulled) {
    const { rows } = await peer.query<{ id: string; row: JsonObject }>(
      `select id, to_jsonb(t) as row from stripe."${p.peerTable}" t`,
    );
    const stored = new Map<string, JsonObject>();
    // a deleted customer stays as a row marked deleted (its documented soft delete): not there
    for (const r of rows) if (r.row.deleted !== true) stored.set(r.id, r.row);
    const skip = new Set(["last_synced_at", "updated_at", "deleted", "_raw_data", "_account_id"]);
    compare(
      live.get(p.emulated)!,
      stored,
      (object, row) => {
        for (const [column, value] of Object.entries(row as JsonObject)) {
          if (skip.has(column) || !(column in object)) continue;
          // stripe 23's SDK hands `*_decimal` fields over as decimal objects, which the engine writes to
          // its text column JSON-encoded ("\"3000\""): the same value, not a stale one
          if (typeof value === "string" && value === JSON.stringify(object[column])) continue;
          if (canonical(value) !== canonical(object[column]))
            return `${column}: ${canonical(value)} instead of ${canonical(object[column])}`;
        }
        return undefined;
      },
      p.peerTable,
      diff,
    );
  }
  return diff;
}

// ---------------------------------------------------------------------------------------------------------
// Helpers

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Traffic {
  requests: number;
  throttled: number;
  busiest: number;
  /** Median time between two consecutive requests (the pace of one request after another). */
  medianGapMs: number;
}

function traffic(emulator: StripeEmulator, key: string, from = 0): Traffic {
  const mine = emulator.requests.slice(from).filter((r: LoggedRequest) => r.key === key);
  return {
    requests: mine.length,
    throttled: mine.filter((r) => r.status === 429).length,
    busiest: busiestWindow(mine, 1000),
    medianGapMs: medianGap(mine.map((r) => r.at)),
  };
}

function medianGap(times: number[]): number {
  const gaps = times
    .slice(1)
    .map((t, i) => t - times[i]!)
    .sort((a, b) => a - b);
  return gaps.length ? gaps[Math.floor(gaps.length / 2)]! : 0;
}

/** `t=…,v1=…`: HMAC-SHA256 of `${t}.${body}` with the endpoint's secret, as Stripe signs a webhook. */
function stripeSignature(body: string, secret: string): string {
  const t = Math.floor(Date.now() / 1000);
  const v1 = createHmac("sha256", secret).update(`${t}.${body}`).digest("hex");
  return `t=${t},v1=${v1}`;
}

/**
 * The order webhooks arrive in: Stripe does not guarantee order, retries, and sends concurrently. Each event
 * may be overtaken by any of the next ~20; one in ten is delivered a second time, up to ~100 events later.
 */
function deliveryOrder(events: JsonObject[]): JsonObject[] {
  const random = seededRandom(13);
  const slots: { at: number; event: JsonObject }[] = [];
  events.forEach((event, i) => {
    slots.push({ at: i + random() * 20, event });
    if (random() < 0.1) slots.push({ at: i + 20 + random() * 80, event });
  });
  return slots.sort((a, b) => a.at - b.at).map((s) => s.event);
}

function describeDelivery(d: Delivered): string {
  const kinds = [...d.failures].map(([kind, n]) => `${n}× ${kind.slice(0, 70)}`).join("; ");
  return `settled ${d.settleSeconds.toFixed(2)} s after the last first delivery; ${d.failed} deliveries failed${kinds ? ` [${kinds}]` : ""}, ${d.gaveUp} still failing after ${d.retryRounds} rounds of retries 2 s apart`;
}

/** `create database <to> template <from>` on the server; returns the new database's URL. */
async function cloneDatabase(serverUrl: string, from: string, to: string): Promise<string> {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${to} template ${from}`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${to}`;
  return url.toString();
}

interface Delivered {
  /** From the last first delivery until every delivery (retries included) was processed. */
  settleSeconds: number;
  /** Deliveries that failed (each retry counted). */
  failed: number;
  /** Still failing when retrying stopped. */
  gaveUp: number;
  retryRounds: number;
  /** `type: message` of each kind of failure, with its count. */
  failures: Map<string, number>;
}

/**
 * Delivers each event as a signed webhook to `processWebhook`, in the given order, at the pace the events were
 * made (spread over `spanMs`), `concurrency` at a time. Failed deliveries are sent again, as Stripe retries
 * them: rounds 2 s apart until all went through or a round changed nothing (Stripe's own retries come
 * minutes to days later, so this is a best case).
 */
async function deliver(
  sync: StripeSync,
  deliveries: JsonObject[],
  secret: string,
  concurrency: number,
  spanMs: number,
): Promise<Delivered> {
  const out: Delivered = { settleSeconds: 0, failed: 0, gaveUp: 0, retryRounds: 0, failures: new Map() };
  const round = async (batch: JsonObject[], paced: boolean): Promise<JsonObject[]> => {
    const start = performance.now();
    const step = paced && batch.length > 0 ? spanMs / batch.length : 0;
    const failedNow: JsonObject[] = [];
    let next = 0;
    const deliverer = async () => {
      while (next < batch.length) {
        const i = next++;
        const event = batch[i]!;
        const wait = start + i * step - performance.now();
        if (wait > 0) await sleep(wait);
        const body = JSON.stringify(event);
        try {
          await sync.processWebhook(body, stripeSignature(body, secret));
        } catch (error) {
          out.failed++;
          failedNow.push(event);
          const kind = `${String(event.type)}: ${(error as Error).message.replace(/'[a-z]+_[A-Za-z0-9]+'/g, "'…'")}`;
          out.failures.set(kind, (out.failures.get(kind) ?? 0) + 1);
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, deliverer));
    return failedNow;
  };
  const lastDelivery = performance.now() + spanMs;
  let failed = await round(deliveries, true);
  // until every delivery went through, or a retry changed nothing (a failure that will not go away)
  for (let retry = 0; retry < 30 && failed.length > 0; retry++) {
    await sleep(2000);
    const before = failed.length;
    failed = await round(failed, false);
    out.retryRounds++;
    if (failed.length === before) break;
  }
  out.gaveUp = failed.length;
  out.settleSeconds = Math.max(0, (performance.now() - lastDelivery) / 1000);
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Main

interface Side {
  backfillSeconds: number;
  backfillError?: string;
  traffic: Traffic;
  afterBackfill: Difference;
  changeSeconds?: number;
  changeNote: string;
  afterChanges?: Difference;
  changeTraffic?: Traffic;
  webhookErrors?: number;
}

async function main(): Promise<number> {
  const flags = parseFlags(process.argv.slice(2), flagSpecs);
  const server = await startBenchCluster();
  const log = pino({ level: "warn" }, pino.destination(2));
  const emulator = await startStripeEmulator({ rateLimitPerSecond: flags.rate });
  let worker: SourceWorker | undefined;
  let ownership: WorkOwnership | undefined;
  let store: pg.Pool | undefined;
  let peerSync: StripeSync | undefined;
  try {
    console.log(`sources benchmark (Stripe), ${new Date().toISOString().slice(0, 10)}`);
    for (const fact of machineFacts(server.version)) console.log(`  ${fact}`);
    console.log(`  ${loadNote("before")}`);
    const n = counts(flags.objects);
    console.log(
      `  ${fmt(flags.objects)} objects (${[...n].map(([c, k]) => `${fmt(k)} ${c}`).join(", ")}), allotment ${flags.rate} requests/s per key`,
    );
    const t0 = performance.now();
    fillAccount(emulator, flags.objects);
    console.log(`  account filled in ${((performance.now() - t0) / 1000).toFixed(1)} s (untimed)\n`);

    const initial = liveNow(emulator);
    const storeUrl = await server.createDatabase("sequin");
    const peerUrl = await server.createDatabase("peer");
    store = createStorePool(storeUrl, { applicationName: "sequin-bench" });
    await migrate(store);

    // Theoretical minimum: every list page, plus the credential check, the change mark and one events poll.
    const pages = [...n.values()].reduce((sum, k) => sum + Math.max(1, Math.ceil(k / 100)), 0);
    const minimumRequests = pages + 3;
    const minimumSeconds = minimumRequests / flags.rate;
    console.log(
      `theoretical minimum: ${fmt(pages)} list pages + 3 other requests = ${fmt(minimumRequests)} requests ÷ ${flags.rate}/s = ${minimumSeconds.toFixed(2)} s\n`,
    );

    // --- ours: backfill
    const sources = new Sources({ pool: store, vault: Vault.fromKey(randomBytes(32)) });
    ownership = new WorkOwnership(store, "worker", { leaseSeconds: 15, beatMs: beatMsFor(15) }, log);
    worker = new SourceWorker({ store, sources, ownership, log });
    await ownership.start();
    await worker.start();
    const ourKey = emulator.createKey();
    const ourFrom = emulator.requests.length;
    const oursStart = performance.now();
    const prepared = await sources.prepare(
      "stripe",
      pulled.map((p) => p.ours),
      {
        credentials: { api_key: ourKey },
        base_url: `http://${emulator.host}:${emulator.port}`,
        max_requests_per_second: flags.rate,
      },
    );
    const sync = await withTransaction(store, async (client) => {
      const created = await createSync(client, {
        name: "stripe-bench",
        provider: "stripe",
        collections: prepared.collections,
      });
      await sources.insert(client, created.id, prepared);
      return created;
    });
    await worker.poke();
    const expected = flags.objects;
    await waitUntil(
      "our backfill",
      async () => {
        const done = await store!.query<{ done: boolean }>(
          "select bool_and(backfill_done) as done from sequin_source_collections where sync_id = $1",
          [sync.id],
        );
        if (done.rows[0]!.done !== true) return false;
        const { rows } = await store!.query<{ live: string }>(
          "select count(*)::text as live from sequin_records where sync_id = $1 and not deleted",
          [sync.id],
        );
        return Number(rows[0]!.live) === expected;
      },
      30 * 60_000,
    );
    const oursSeconds = (performance.now() - oursStart) / 1000;
    const oursTraffic = traffic(emulator, ourKey, ourFrom);
    const ours: Side = {
      backfillSeconds: oursSeconds,
      traffic: oursTraffic,
      afterBackfill: await oursDifference(initial, store, sync.id),
      changeNote: "",
    };
    console.log(
      `ours: backfill ${oursSeconds.toFixed(2)} s (${(oursSeconds / minimumSeconds).toFixed(2)}× the minimum), ${fmt(oursTraffic.requests)} requests, ${oursTraffic.throttled} throttled, busiest second ${oursTraffic.busiest}, median ${oursTraffic.medianGapMs} ms between requests; missing ${ours.afterBackfill.missing}, extra ${ours.afterBackfill.extra}, stale ${ours.afterBackfill.stale}`,
    );

    // --- the peer: backfill
    const peerKey = emulator.createKey();
    emulator.setRateLimit(flags.rate, peerKey);
    const webhookSecret = `whsec_${randomBytes(24).toString("hex")}`;
    // Its ES module build resolves its migrations with `__dirname`, which ES modules lack: `runMigrations`
    // then logs the error and returns without migrating. Its CommonJS build migrates.
    const { runMigrations } = createRequire(import.meta.url)(
      "@supabase/stripe-sync-engine",
    ) as typeof import("@supabase/stripe-sync-engine");
    await runMigrations({ databaseUrl: peerUrl, schema: "stripe", logger: log });
    const makePeer = (url: string, extra: Partial<StripeSyncConfig> = {}): StripeSync => {
      const sync = new StripeSync({
        poolConfig: { connectionString: url, max: 10 },
        stripeSecretKey: peerKey,
        stripeWebhookSecret: webhookSecret,
        ...extra,
      });
      // Its constructor builds `new Stripe(key, {apiVersion: config.stripeApiVersion, appInfo})`, with no
      // option for a host: the same client, pointed at the emulator.
      sync.stripe = new Stripe(peerKey, {
        appInfo: { name: "Stripe Postgres Sync" },
        ...emulator.sdkOptions,
      });
      return sync;
    };
    peerSync = makePeer(peerUrl);
    const peerFrom = emulator.requests.length;
    const peerStart = performance.now();
    let backfillError: string | undefined;
    try {
      for (const p of pulled) await peerSync.syncBackfill({ object: p.peerObject });
    } catch (error) {
      backfillError = (error as Error).message;
    }
    const peerSeconds = (performance.now() - peerStart) / 1000;
    const peerTraffic = traffic(emulator, peerKey, peerFrom);
    const peer: Side = {
      backfillSeconds: peerSeconds,
      ...(backfillError ? { backfillError } : {}),
      traffic: peerTraffic,
      afterBackfill: await peerDifference(initial, peerSync.postgresClient.pool),
      changeNote: "",
    };
    if (peer.afterBackfill.examples.length) console.log(`  e.g. ${peer.afterBackfill.examples.join(", ")}`);
    console.log(
      `peer: backfill ${peerSeconds.toFixed(2)} s (${(peerSeconds / minimumSeconds).toFixed(2)}× the minimum), ${fmt(peerTraffic.requests)} requests, ${peerTraffic.throttled} answered 429, busiest second ${peerTraffic.busiest}, median ${peerTraffic.medianGapMs} ms between requests; missing ${peer.afterBackfill.missing}, extra ${peer.afterBackfill.extra}, stale ${peer.afterBackfill.stale}${backfillError ? `; FAILED: ${backfillError}` : ""}`,
    );

    // --- the mutation script, ours live meanwhile
    const before = new Set(emulator.events().map((e) => e.id as string));
    const changeFrom = emulator.requests.length;
    const scriptStart = performance.now();
    const { stats, after: tracked } = await mutationScript(emulator, initial, flags.objects);
    const scriptEnd = performance.now();
    const scriptSeconds = (scriptEnd - scriptStart) / 1000;
    const events = emulator
      .events()
      .filter((e) => !before.has(e.id as string))
      .reverse();
    stats.events = events.length;
    console.log(
      `\nmutation script: ${stats.creates} creates, ${stats.updates} updates, ${stats.deletes} deletes, ${stats.bursts} bursts (5 updates of one customer within a second), ${stats.events} events, over ${scriptSeconds.toFixed(1)} s`,
    );

    // ours: until the stream equals the live objects (a cheap check of counts first, then the exact one)
    let oursChanges: Difference | undefined;
    try {
      await waitUntil(
        "our stream to equal Stripe",
        async () => {
          const { rows } = await store!.query<{ collection_id: string; live: string }>(
            "select collection_id, count(*)::text as live from sequin_records where sync_id = $1 and not deleted group by 1",
            [sync.id],
          );
          const have = new Map(rows.map((r) => [r.collection_id, Number(r.live)]));
          for (const p of pulled) if ((have.get(p.ours) ?? 0) !== tracked.get(p.emulated)!.size) return false;
          oursChanges = await oursDifference(tracked, store!, sync.id);
          return oursChanges.missing + oursChanges.extra + oursChanges.stale === 0;
        },
        5 * 60_000,
      );
      ours.changeSeconds = (performance.now() - scriptEnd) / 1000;
      ours.changeNote = "after the script's last change";
    } catch (error) {
      ours.changeNote = (error as Error).message;
    }
    // the emulator's own state, read back (untimed), is what every side is judged against
    const final = liveNow(emulator);
    const sameObjects = (x: Map<string, JsonObject>, y: Map<string, JsonObject>) =>
      x.size === y.size && [...x].every(([id, object]) => canonical(object) === canonical(y.get(id)));
    const trackedRight = [...final].every(([c, objects]) => sameObjects(objects, tracked.get(c)!));
    if (!trackedRight)
      console.log(
        "  (the script's record of the live objects differs from the emulator's: judged by the emulator's)",
      );
    oursChanges = await oursDifference(final, store, sync.id);
    ours.afterChanges = oursChanges;
    ours.changeTraffic = traffic(emulator, ourKey, changeFrom);
    console.log(
      `ours: equal to Stripe ${ours.changeSeconds === undefined ? "NEVER" : `${ours.changeSeconds.toFixed(2)} s`} ${ours.changeNote}; ${fmt(ours.changeTraffic.requests)} requests since the script began (events pages and re-reads), busiest second ${ours.changeTraffic.busiest}; missing ${oursChanges!.missing}, extra ${oursChanges!.extra}, stale ${oursChanges!.stale}`,
    );

    // the peer: the same events as webhooks, first to a copy of its backfilled tables in order and once each
    // (what its timestamps do without reordering), then to its own tables as webhooks arrive
    // a copy of its database as the backfill left it (a template needs no other session on it)
    await peerSync.close();
    const orderedUrl = await cloneDatabase(server.cluster.url(), "peer", "peer_ordered");
    const revalidateUrl = await cloneDatabase(server.cluster.url(), "peer", "peer_revalidate");
    peerSync = makePeer(peerUrl);
    const orderedSync = makePeer(orderedUrl);
    const inOrder = await deliver(orderedSync, events, webhookSecret, 1, scriptSeconds * 1000);
    const inOrderDiff = await peerDifference(final, orderedSync.postgresClient.pool);
    await orderedSync.close();
    console.log(
      `peer, in order and once each: ${events.length} webhooks, ${describeDelivery(inOrder)}; missing ${inOrderDiff.missing}, extra ${inOrderDiff.extra}, stale ${inOrderDiff.stale}`,
    );
    if (inOrderDiff.examples.length) console.log(`  e.g. ${inOrderDiff.examples.join("; ")}`);

    const deliveries = deliveryOrder(events);
    // its option against races: every webhook only a trigger to read the object again from Stripe (its
    // key's budget shared with nothing else here)
    const revalidateSync = makePeer(revalidateUrl, {
      revalidateObjectsViaStripeApi: ["customer", "product", "price"],
    });
    const revalidateFrom = emulator.requests.length;
    const revalidated = await deliver(revalidateSync, deliveries, webhookSecret, 4, scriptSeconds * 1000);
    const revalidateTraffic = traffic(emulator, peerKey, revalidateFrom);
    const revalidateDiff = await peerDifference(final, revalidateSync.postgresClient.pool);
    await revalidateSync.close();
    console.log(
      `peer revalidating (revalidateObjectsViaStripeApi), as webhooks arrive: ${describeDelivery(revalidated)}; ${fmt(revalidateTraffic.requests)} requests, ${revalidateTraffic.throttled} answered 429, busiest second ${revalidateTraffic.busiest}; missing ${revalidateDiff.missing}, extra ${revalidateDiff.extra}, stale ${revalidateDiff.stale}`,
    );
    if (revalidateDiff.examples.length) console.log(`  e.g. ${revalidateDiff.examples.join("; ")}`);

    const peerChangeFrom = emulator.requests.length;
    const arrived = await deliver(peerSync, deliveries, webhookSecret, 4, scriptSeconds * 1000);
    peer.changeSeconds = arrived.settleSeconds;
    peer.changeNote = "after the last first delivery";
    peer.webhookErrors = arrived.failed;
    peer.afterChanges = await peerDifference(final, peerSync.postgresClient.pool);
    peer.changeTraffic = traffic(emulator, peerKey, peerChangeFrom);
    console.log(
      `peer, as webhooks arrive: ${deliveries.length} deliveries (${deliveries.length - events.length} duplicates, 4 at a time), ${describeDelivery(arrived)}; ${peer.changeTraffic.requests} requests; missing ${peer.afterChanges.missing}, extra ${peer.afterChanges.extra}, stale ${peer.afterChanges.stale}`,
    );
    if (peer.afterChanges.examples.length) console.log(`  e.g. ${peer.afterChanges.examples.join("; ")}`);

    // what the emulator itself costs a list page (same process, loopback HTTP, no limit, nothing else asking)
    const probeKey = emulator.createKey();
    emulator.setRateLimit(null, probeKey);
    const pageMs: number[] = [];
    let after: string | undefined;
    for (let i = 0; i < 15; i++) {
      const t = performance.now();
      const page = await fetch(
        `http://${emulator.host}:${emulator.port}/v1/customers?limit=100${after ? `&starting_after=${after}` : ""}`,
        { headers: { authorization: `Bearer ${probeKey}` } },
      )
        .then((answer) => answer.json() as Promise<{ data: { id: string }[] }>)
        .catch(() => undefined); // a keep-alive connection the server closed meanwhile: the next one is fresh
      if (!page) continue;
      pageMs.push(performance.now() - t);
      after = page.data.at(-1)?.id;
      if (!after) break;
    }
    pageMs.sort((a, b) => a - b);
    console.log(
      `\nthe emulator alone: a customers list page of 100 answers in ${pageMs.length ? pageMs[Math.floor(pageMs.length / 2)]!.toFixed(0) : "?"} ms (median of ${pageMs.length}, one at a time)`,
    );

    // --- the table
    const row = (name: string, s: Side): string[] => [
      name,
      s.backfillError ? `failed after ${s.backfillSeconds.toFixed(1)}` : s.backfillSeconds.toFixed(2),
      (s.backfillSeconds / minimumSeconds).toFixed(2),
      fmt(s.traffic.requests),
      String(s.traffic.throttled),
      String(s.traffic.busiest),
      `${s.afterBackfill.missing}/${s.afterBackfill.extra}/${s.afterBackfill.stale}`,
      s.changeSeconds === undefined ? "never" : s.changeSeconds.toFixed(2),
      `${s.afterChanges!.missing}/${s.afterChanges!.extra}/${s.afterChanges!.stale}`,
    ];
    console.log("");
    printTable(
      [
        "engine",
        "backfill s",
        "× minimum",
        "requests",
        "429s",
        "busiest 1 s",
        "after backfill m/e/s",
        "changes s",
        "after changes m/e/s",
      ],
      [
        row("sequin", ours),
        row("stripe-sync-engine 0.48.5", peer),
        [
          "  same, revalidating, as webhooks arrive",
          "",
          "",
          `+${fmt(revalidateTraffic.requests)}`,
          `+${revalidateTraffic.throttled}`,
          String(revalidateTraffic.busiest),
          "",
          revalidated.settleSeconds.toFixed(2),
          `${revalidateDiff.missing}/${revalidateDiff.extra}/${revalidateDiff.stale}`,
        ],
        [
          "  same, webhooks in order, once each",
          "",
          "",
          "",
          "",
          "",
          "",
          inOrder.settleSeconds.toFixed(2),
          `${inOrderDiff.missing}/${inOrderDiff.extra}/${inOrderDiff.stale}`,
        ],
      ],
    );
    console.log(
      `minimum: ${minimumSeconds.toFixed(2)} s (${fmt(minimumRequests)} requests at ${flags.rate}/s); m/e/s: missing/extra/stale against the emulator's live objects;\n` +
        `changes s: ours from the script's last change until the stream equals Stripe; the peer's from the last webhook's first delivery\n` +
        `(webhooks delivered at the pace the script made its events) until every delivery and retry was processed`,
    );

    const goals: [string, string, boolean][] = [
      [
        `our busiest second ≤ ${flags.rate}`,
        String(ours.traffic.busiest),
        ours.traffic.busiest <= flags.rate && (ours.changeTraffic?.busiest ?? 0) <= flags.rate,
      ],
      [
        "our stream exact after the backfill and after the changes",
        `${ours.afterBackfill.missing + ours.afterBackfill.extra + ours.afterBackfill.stale} + ${oursChanges!.missing + oursChanges!.extra + oursChanges!.stale} differences`,
        ours.afterBackfill.missing + ours.afterBackfill.extra + ours.afterBackfill.stale === 0 &&
          oursChanges!.missing + oursChanges!.extra + oursChanges!.stale === 0,
      ],
    ];
    console.log("");
    printTable(
      ["goal", "measured", "result"],
      goals.map(([goal, measured, met]) => [goal, measured, met ? "met" : "MISSED"]),
    );
    console.log(`\n${loadNote("after")}`);
    return goals[0]![2] && goals[1]![2] ? 0 : 1;
  } catch (error) {
    console.error(error);
    return 2;
  } finally {
    await worker?.stop().catch(() => {});
    await ownership?.stop().catch(() => {});
    await peerSync?.close().catch(() => {});
    await store?.end().catch(() => {});
    await emulator.close();
    await server.destroy();
  }
}

const code = await main();
// The emulator's module registers a test-runner cleanup hook; exiting here skips the runner's empty report.
process.exit(code);
