/**
 * HubSpot sources benchmark: a backfill of 50,000 records (contacts, companies, deals, tickets) at the
 * default allotment, against the minimum that allotment allows (list pages of 100, plus one properties read
 * per object type, the credential check and the change mark, ÷ requests per second), and then the live
 * latency: changes made in the emulator one a second for a minute, each timed until the stream holds it,
 * at the default poll interval with the search index lagging behind (HubSpot's search is eventually
 * consistent). A real SourceWorker runs in this process on a throwaway store, against the HubSpot emulator.
 *
 *   node --import tsx bench/sources-hubspot.ts                     50,000 records, the default allotment
 *   node --import tsx bench/sources-hubspot.ts --quick             2,000 records, 15 changes: a smoke run
 *   node --import tsx bench/sources-hubspot.ts --records 20000 --rate 10 --changes 30 --lag 2000
 *
 * Prints one row; exits non-zero when the stream is not exact after the changes or the allotment was
 * exceeded in some second.
 */
import { randomBytes } from "node:crypto";
import type pg from "pg";
import pino from "pino";
import { migrate } from "../src/db/migrate.js";
import { createStorePool } from "../src/db/pool.js";
import { withTransaction } from "../src/db/transaction.js";
import { hubspotKind } from "../src/sources/hubspot/hubspot-kind.js";
import { Sources, SourceWorker } from "../src/sources/index.js";
import { createSync } from "../src/stream/index.js";
import { Vault } from "../src/vault/index.js";
import { beatMsFor, WorkOwnership } from "../src/work/index.js";
import {
  busiestWindow,
  type HubSpotEmulator,
  type Properties,
  startHubSpotEmulator,
} from "../test/emulators/hubspot/index.js";
import { loadNote, machineFacts, startBenchCluster } from "./bench-helpers.js";

interface Flags {
  records: number;
  rate: number;
  changes: number;
  lag: number;
}

function parseFlags(argv: string[]): Flags {
  const quick = argv.includes("--quick");
  const flags: Flags = {
    records: quick ? 2_000 : 50_000,
    rate: hubspotKind.defaultRequestsPerSecond,
    changes: quick ? 15 : 60,
    lag: 2000,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--quick") continue;
    const value = argv[++i] ?? "";
    const n = Number(value.replace(/_/g, ""));
    if (!Number.isInteger(n) || n < 0) throw new Error(`${arg} must be a whole number (got ${value})`);
    if (arg === "--records") flags.records = n;
    else if (arg === "--rate") flags.rate = n;
    else if (arg === "--changes") flags.changes = n;
    else if (arg === "--lag") flags.lag = n;
    else
      throw new Error(
        `unknown argument ${JSON.stringify(arg)}; flags: --quick, --records, --rate, --changes, --lag`,
      );
  }
  if (flags.rate < 1 || flags.rate > hubspotKind.maxRequestsPerSecond)
    throw new Error(`--rate: from 1 to ${hubspotKind.maxRequestsPerSecond} requests per second`);
  return flags;
}

const types = [
  ["contacts", 0.5],
  ["companies", 0.2],
  ["deals", 0.2],
  ["tickets", 0.1],
] as const;
type ObjectType = (typeof types)[number][0];

function fill(emulator: HubSpotEmulator, total: number): Map<ObjectType, number> {
  const counts = new Map<ObjectType, number>();
  let left = total;
  types.forEach(([type, share], i) => {
    const n = i === types.length - 1 ? left : Math.round(total * share);
    left -= n;
    counts.set(type, n);
    // history older than the benchmark: a day ago
    const at = emulator.clock.nowMs() - 86_400_000;
    for (let k = 0; k < n; k++) {
      const properties: Properties =
        type === "contacts"
          ? {
              email: `c${k}@example.com`,
              firstname: `First ${k}`,
              lastname: `Last ${k}`,
              phone: `+1 555 ${k}`,
            }
          : type === "companies"
            ? { name: `Company ${k}`, domain: `c${k}.example.com`, city: "Lisbon" }
            : type === "deals"
              ? { dealname: `Deal ${k}`, amount: String(k * 10), dealstage: "appointmentscheduled" }
              : { subject: `Ticket ${k}`, content: "Cannot sign in", hs_ticket_priority: "HIGH" };
      emulator.create(type, properties, { at });
    }
  });
  return counts;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(100);
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0
    ? Number.NaN
    : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Records of the stream that differ from the emulator's live ones (missing, extra or stale). */
async function differences(store: pg.Pool, syncId: string, emulator: HubSpotEmulator): Promise<number> {
  let wrong = 0;
  for (const [type] of types) {
    const { rows } = await store.query<{ upstream_id: string; payload: unknown }>(
      "select upstream_id, payload from sequin_records where sync_id = $1 and collection_id = $2 and not deleted",
      [syncId, type],
    );
    const stream = new Map(rows.map((r) => [r.upstream_id, JSON.stringify(sortKeys(r.payload))]));
    const live = emulator.all(type);
    wrong += Math.abs(stream.size - live.length);
    for (const object of live)
      if (stream.get(object.id as string) !== JSON.stringify(sortKeys(object))) wrong += 1;
  }
  return wrong;
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value !== "object" || value === null) return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
  );
}

async function main(): Promise<number> {
  const flags = parseFlags(process.argv.slice(2));
  const server = await startBenchCluster();
  const log = pino({ level: "warn" }, pino.destination(2));
  const emulator = await startHubSpotEmulator();
  // HubSpot's own limits at the allotment's scale: going over them would show as 429s
  emulator.setLimits({ tenSecondly: 10 * flags.rate, searchPerSecond: 5 });
  emulator.setIndexLag(flags.lag);
  let worker: SourceWorker | undefined;
  let ownership: WorkOwnership | undefined;
  let store: pg.Pool | undefined;
  try {
    console.log(`sources benchmark (HubSpot), ${new Date().toISOString().slice(0, 10)}`);
    for (const fact of machineFacts(server.version)) console.log(`  ${fact}`);
    console.log(`  ${loadNote("before")}`);
    const counts = fill(emulator, flags.records);
    store = createStorePool(await server.createDatabase("sequin"), { applicationName: "sequin-bench" });
    await migrate(store);
    const sources = new Sources({ pool: store, vault: Vault.fromKey(randomBytes(32)) });
    ownership = new WorkOwnership(store, "worker", { leaseSeconds: 15, beatMs: beatMsFor(15) }, log);
    worker = new SourceWorker({ store, sources, ownership, log });
    await ownership.start();
    await worker.start();

    const pages = [...counts.values()].reduce((sum, n) => sum + Math.max(1, Math.ceil(n / 100)), 0);
    // list pages, one properties read per type, the credential check and the change mark
    const minimumRequests = pages + types.length + 2;
    const minimumSeconds = minimumRequests / flags.rate;

    const token = emulator.createPrivateApp();
    const started = performance.now();
    const prepared = await sources.prepare(
      "hubspot",
      types.map(([type]) => type),
      {
        credentials: { access_token: token },
        base_url: emulator.baseUrl,
        max_requests_per_second: flags.rate,
      },
    );
    const sync = await withTransaction(store, async (client) => {
      const created = await createSync(client, {
        name: "hubspot-bench",
        provider: "hubspot",
        collections: prepared.collections,
      });
      await sources.insert(client, created.id, prepared);
      return created;
    });
    await worker.poke();
    await waitUntil(
      "the backfill",
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
        return Number(rows[0]!.live) === flags.records;
      },
      60 * 60_000,
    );
    const backfillSeconds = (performance.now() - started) / 1000;
    const backfillRequests = emulator.requests.filter((r) => r.install === token).length;

    // live: one change a second, alternating updates, creations and archives, each timed into the stream
    const pending = new Map<string, { type: ObjectType; at: number; expect: string | null }>();
    const latencies: number[] = [];
    const watcher = (async () => {
      while (pending.size > 0 || latencies.length < flags.changes) {
        if (pending.size > 0) {
          const { rows } = await store!.query<{
            collection_id: string;
            upstream_id: string;
            updated: string | null;
            deleted: boolean;
          }>(
            "select collection_id, upstream_id, payload->>'updatedAt' as updated, deleted from sequin_records where sync_id = $1 and upstream_id = any($2)",
            [sync.id, [...pending.keys()].map((k) => k.split("/")[1]!)],
          );
          for (const row of rows) {
            const key = `${row.collection_id}/${row.upstream_id}`;
            const wanted = pending.get(key);
            if (!wanted) continue;
            if (wanted.expect === null ? row.deleted : !row.deleted && row.updated === wanted.expect) {
              latencies.push(Date.now() - wanted.at);
              pending.delete(key);
            }
          }
        }
        await sleep(50);
      }
    })();
    for (let i = 0; i < flags.changes; i++) {
      const [type] = types[i % types.length]!;
      const live = emulator.all(type);
      const at = Date.now();
      if (i % 5 === 4) {
        const id = live[(i * 7919) % live.length]!.id as string;
        emulator.archive(type, id);
        pending.set(`${type}/${id}`, { type, at, expect: null });
      } else {
        const object =
          i % 5 === 3
            ? emulator.create(type, {})
            : emulator.update(type, live[(i * 104_729) % live.length]!.id as string, {
                hubspot_owner_id: String(70_000 + i),
              });
        pending.set(`${type}/${object.id}`, { type, at, expect: object.updatedAt as string });
      }
      await sleep(1000);
    }
    await Promise.race([
      watcher,
      sleep(10 * 60_000).then(() => {
        throw new Error(`${pending.size} changes never reached the stream`);
      }),
    ]);
    const wrong = await differences(store, sync.id, emulator);
    const ours = emulator.requests.filter((r) => r.install === token);
    const busiest = busiestWindow(ours, 1000);
    const throttled = ours.filter((r) => r.status === 429).length;
    latencies.sort((a, b) => a - b);
    const poll = hubspotKind.defaultPollIntervalSeconds;
    console.log(
      [
        "hubspot",
        `${flags.records.toLocaleString("en-US")} records`,
        `allotment ${flags.rate}/s`,
        `backfill ${backfillSeconds.toFixed(1)} s (${backfillRequests} requests)`,
        `minimum ${minimumSeconds.toFixed(1)} s (${minimumRequests} requests: ${pages} pages of 100)`,
        `ratio ${(backfillSeconds / minimumSeconds).toFixed(2)}x`,
        `live p50 ${(percentile(latencies, 50) / 1000).toFixed(1)} s p99 ${(percentile(latencies, 99) / 1000).toFixed(1)} s over ${latencies.length} changes (poll ${poll} s, index lag ${flags.lag / 1000} s)`,
        `busiest second ${busiest}`,
        `429s ${throttled}`,
        `stream ${wrong === 0 ? "exact" : `${wrong} wrong`}`,
      ].join(" | "),
    );
    console.log(`  ${loadNote("after")}`);
    return wrong === 0 && busiest <= flags.rate ? 0 : 1;
  } finally {
    await worker?.stop();
    await ownership?.stop();
    await store?.end();
    await emulator.close();
    await server.destroy();
  }
}

process.exitCode = await main();
