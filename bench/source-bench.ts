/**
 * What the sources benchmarks of HubSpot, Salesforce and GitHub share: their flags, a throwaway store with a
 * real SourceWorker on it, the timed backfill of one sync, the live latency of changes made in an emulator,
 * the stream checked against the emulator's live objects, and the printed row. Each benchmark keeps what is
 * its provider's own: how it fills its emulator, which changes it makes, and its minimum request count.
 */
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type pg from "pg";
import pino from "pino";
import { migrate } from "../src/db/migrate.js";
import { createStorePool } from "../src/db/pool.js";
import { withTransaction } from "../src/db/transaction.js";
import { Sources, SourceWorker } from "../src/sources/index.js";
import { createSync } from "../src/stream/index.js";
import { Vault } from "../src/vault/index.js";
import { beatMsFor, WorkOwnership } from "../src/work/index.js";
import { busiestWindow } from "../test/emulators/busiest-window.js";
import { loadNote, machineFacts, startBenchCluster } from "./bench-helpers.js";

export const fmt = (n: number) => n.toLocaleString("en-US");

// ---------------------------------------------------------------------------------------------------------
// Flags

/** Reads one flag's value; throws, naming the flag, when the value is not one it takes. */
export type ParseFlag = (value: string, flag: string) => number;

export interface FlagSpec<Name extends string = string> {
  name: Name;
  default: number;
  /** Its value under `--quick` (a smoke run); the default when absent. */
  quickDefault?: number;
  parse: ParseFlag;
}

/** A number as written on a command line: `50_000` reads as 50000. */
const numberIn = (value: string) => Number(value.replace(/_/g, ""));

/** A count that may be 0. */
export const wholeNumber: ParseFlag = (value, flag) => {
  const n = numberIn(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${flag} must be a whole number (got ${value})`);
  return n;
};

export const positiveWholeNumber: ParseFlag = (value, flag) => {
  const n = numberIn(value);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`${flag} must be a positive whole number (got ${value})`);
  return n;
};

/** A fraction too: an allotment below one request a second (Salesforce's default is 1/3). */
export const positiveNumber: ParseFlag = (value, flag) => {
  const n = numberIn(value);
  if (!(n > 0)) throw new Error(`${flag} must be a positive number (got ${value})`);
  return n;
};

/** An allotment read by `parse`, refused above what the provider lets a sync ask for. */
export function allotment(max: number, parse: ParseFlag): ParseFlag {
  return (value, flag) => {
    const n = parse(value, flag);
    if (n > max) throw new Error(`${flag}: a sync may ask for at most ${max} requests per second`);
    return n;
  };
}

/**
 * `--quick` and `--name value` flags as `specs` describe them; unknown flags fail, listing the known ones.
 * A flag's value wins over its quick default whatever their order.
 */
export function parseFlags<Name extends string>(
  argv: readonly string[],
  specs: readonly FlagSpec<Name>[],
): Record<Name, number> & { quick: boolean } {
  const quick = argv.includes("--quick");
  const flags = Object.fromEntries(
    specs.map((spec) => [spec.name, quick ? (spec.quickDefault ?? spec.default) : spec.default]),
  ) as Record<Name, number>;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--quick") continue;
    const spec = specs.find((s) => `--${s.name}` === arg);
    if (!spec)
      throw new Error(
        `unknown argument ${JSON.stringify(arg)}; flags: ${["--quick", ...specs.map((s) => `--${s.name}`)].join(", ")}`,
      );
    flags[spec.name] = spec.parse(argv[++i] ?? "", arg);
  }
  return { ...flags, quick };
}

// ---------------------------------------------------------------------------------------------------------
// Waiting and measuring

/** Checks every `everyMs` until `check` holds; throws after `timeoutMs`, naming `what` it waited for. */
export async function waitUntil(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
  everyMs = 100,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** The `p`th percentile (0-100) of ascending `sorted`, nearest rank; NaN when there is nothing to rank. */
export function percentile(sorted: readonly number[], p: number): number {
  return sorted.length === 0
    ? Number.NaN
    : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** JSON with every object's keys sorted: equal for equal values whatever order their keys came in. */
export function canonical(value: unknown): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (v && typeof v === "object")
      return Object.fromEntries(
        Object.keys(v)
          .sort()
          .map((k) => [k, sort((v as Record<string, unknown>)[k])]),
      );
    return v;
  };
  return JSON.stringify(sort(value === undefined ? null : value));
}

// ---------------------------------------------------------------------------------------------------------
// The store and its worker

export interface SourceBench {
  store: pg.Pool;
  sources: Sources;
  /**
   * Creates a sync of `collections` with `config` and waits until every collection's backfill is done and
   * the stream holds `records` live ones; timed from before the credential check (prepare) to then.
   */
  backfill(options: {
    provider: string;
    collections: readonly string[];
    config: Parameters<Sources["prepare"]>[2];
    records: number;
  }): Promise<{ syncId: string; seconds: number }>;
}

/**
 * Starts a throwaway Postgres cluster, prints the run's header, calls `fill` (untimed, before any worker
 * runs, so that filling a large emulator cannot starve its lease), then migrates a store and starts a real
 * SourceWorker on it, and runs `body`. Everything stops afterwards, whatever `body` did.
 */
export async function withSourceBench<Filled>(
  providerName: string,
  fill: () => Filled,
  body: (bench: SourceBench, filled: Filled) => Promise<number>,
): Promise<number> {
  const server = await startBenchCluster();
  const log = pino({ level: "warn" }, pino.destination(2));
  let store: pg.Pool | undefined;
  let ownership: WorkOwnership | undefined;
  let worker: SourceWorker | undefined;
  try {
    console.log(`sources benchmark (${providerName}), ${new Date().toISOString().slice(0, 10)}`);
    for (const fact of machineFacts(server.version)) console.log(`  ${fact}`);
    console.log(`  ${loadNote("before")}`);
    const filled = fill();
    const pool = createStorePool(await server.createDatabase("sequin"), { applicationName: "sequin-bench" });
    store = pool;
    await migrate(pool);
    const sources = new Sources({ pool, vault: Vault.fromKey(randomBytes(32)) });
    ownership = new WorkOwnership(pool, "worker", { leaseSeconds: 15, beatMs: beatMsFor(15) }, log);
    const running = new SourceWorker({ store: pool, sources, ownership, log });
    worker = running;
    await ownership.start();
    await running.start();
    const bench: SourceBench = {
      store: pool,
      sources,
      async backfill({ provider, collections, config, records }) {
        const started = performance.now();
        const prepared = await sources.prepare(provider, [...collections], config);
        const sync = await withTransaction(pool, async (client) => {
          const created = await createSync(client, {
            name: `${provider}-bench`,
            provider,
            collections: prepared.collections,
          });
          await sources.insert(client, created.id, prepared);
          return created;
        });
        await running.poke();
        await waitUntil(
          "the backfill",
          async () => {
            const done = await pool.query<{ done: boolean }>(
              "select bool_and(backfill_done) as done from sequin_source_collections where sync_id = $1",
              [sync.id],
            );
            return done.rows[0]!.done === true && (await liveRecords(pool, sync.id)) === records;
          },
          60 * 60_000,
        );
        return { syncId: sync.id, seconds: (performance.now() - started) / 1000 };
      },
    };
    return await body(bench, filled);
  } finally {
    await worker?.stop();
    await ownership?.stop();
    await store?.end();
    await server.destroy();
  }
}

async function liveRecords(store: pg.Pool, syncId: string): Promise<number> {
  const { rows } = await store.query<{ live: string }>(
    "select count(*)::text as live from sequin_records where sync_id = $1 and not deleted",
    [syncId],
  );
  return Number(rows[0]!.live);
}

/**
 * Records of the stream that differ from the emulator's live objects (missing, extra or stale), over every
 * collection of `live`; an object's key in the stream is `keyOf` (its `id` by default), its payload compared
 * whole.
 */
export async function differences(
  store: pg.Pool,
  syncId: string,
  live: Record<string, readonly Record<string, unknown>[]>,
  keyOf: (object: Record<string, unknown>) => string = (object) => String(object.id),
): Promise<number> {
  let wrong = 0;
  for (const [collection, objects] of Object.entries(live)) {
    const { rows } = await store.query<{ upstream_id: string; payload: unknown }>(
      "select upstream_id, payload from sequin_records where sync_id = $1 and collection_id = $2 and not deleted",
      [syncId, collection],
    );
    const stream = new Map(rows.map((r) => [r.upstream_id, canonical(r.payload)]));
    wrong += Math.abs(stream.size - objects.length);
    for (const object of objects) if (stream.get(keyOf(object)) !== canonical(object)) wrong += 1;
  }
  return wrong;
}

// ---------------------------------------------------------------------------------------------------------
// Live latency

/** A change made in the emulator: `key` names what it changed (a later change of the same replaces it). */
export interface Change {
  key: string;
}

/**
 * Makes `changes` changes (`make`, after `pauseMs` each) and times each until `arrived` finds it in the
 * stream, looking every 50 ms. Changes overlap unless `oneAtATime`; either way the stream gets `timeoutMs`
 * after the last change made. Returns the latencies in ms, ascending.
 */
export async function liveLatencies<C extends Change>(options: {
  changes: number;
  pauseMs: (i: number) => number;
  make: (i: number) => C;
  /** Those of `pending` the stream holds now. */
  arrived: (pending: C[]) => Promise<C[]>;
  oneAtATime?: boolean;
  timeoutMs: number;
}): Promise<number[]> {
  const pending = new Map<string, { change: C; at: number }>();
  const latencies: number[] = [];
  let making = true;
  let stopped = false;
  let failure: unknown;
  const watcher = (async () => {
    while (!stopped && (making || pending.size > 0)) {
      if (pending.size > 0)
        for (const change of await options.arrived([...pending.values()].map((p) => p.change))) {
          const wanted = pending.get(change.key);
          if (wanted?.change !== change) continue;
          latencies.push(performance.now() - wanted.at);
          pending.delete(change.key);
        }
      await sleep(50);
    }
  })().catch((error: unknown) => {
    failure = error;
  });
  const allArrived = async () => {
    if (failure !== undefined) throw failure;
    return pending.size === 0;
  };
  try {
    for (let i = 0; i < options.changes; i++) {
      await sleep(options.pauseMs(i));
      const at = performance.now();
      const change = options.make(i);
      pending.set(change.key, { change, at });
      if (options.oneAtATime) await waitUntil(`change ${i} in the stream`, allArrived, options.timeoutMs);
    }
    making = false;
    await waitUntil(`${pending.size} changes to reach the stream`, allArrived, options.timeoutMs);
  } finally {
    stopped = true;
    await watcher;
  }
  return latencies.sort((a, b) => a - b);
}

// ---------------------------------------------------------------------------------------------------------
// The row

/**
 * The busiest window of `requests` against what the allotment lets into it: a second, or the time one
 * request takes at an allotment below one a second.
 */
export function busiestAgainstAllotment(
  requests: readonly { at: number }[],
  rate: number,
): { requests: number; windowMs: number; allowed: number } {
  const windowMs = Math.max(1000, 1000 / rate);
  return { requests: busiestWindow(requests, windowMs), windowMs, allowed: rate >= 1 ? Math.floor(rate) : 1 };
}

/**
 * Prints the run's one row: the backfill's time against the minimum the allotment allows and their ratio,
 * the live latency, the busiest window, what else the provider reports, whether the stream is exact; then
 * the machine's load. Returns the exit code: 0 only when the stream is exact and the allotment held.
 */
export function report(row: {
  provider: string;
  records: number;
  rate: number;
  backfill: { seconds: number; requests: number; note?: string };
  minimum: { seconds: number; requests: number; note: string };
  /** Ascending, in ms. */
  latencies: readonly number[];
  liveNote: string;
  busiest: { requests: number; windowMs: number; allowed: number };
  more?: string[];
  wrong: number;
}): number {
  const seconds = (ms: number) => (ms / 1000).toFixed(1);
  const window = row.busiest.windowMs === 1000 ? "second" : `${seconds(row.busiest.windowMs)} s`;
  console.log(
    [
      row.provider,
      `${fmt(row.records)} records`,
      `allotment ${Number(row.rate.toFixed(3))}/s`,
      `backfill ${row.backfill.seconds.toFixed(1)} s (${row.backfill.requests} requests${row.backfill.note ? `; ${row.backfill.note}` : ""})`,
      `minimum ${row.minimum.seconds.toFixed(1)} s (${row.minimum.requests} requests: ${row.minimum.note})`,
      `ratio ${(row.backfill.seconds / row.minimum.seconds).toFixed(2)}x`,
      `live p50 ${seconds(percentile(row.latencies, 50))} s p99 ${seconds(percentile(row.latencies, 99))} s over ${row.latencies.length} changes (${row.liveNote})`,
      `busiest ${window} ${row.busiest.requests} of ${row.busiest.allowed}`,
      ...(row.more ?? []),
      `stream ${row.wrong === 0 ? "exact" : `${row.wrong} wrong`}`,
    ].join(" | "),
  );
  console.log(`  ${loadNote("after")}`);
  return row.wrong === 0 && row.busiest.requests <= row.busiest.allowed ? 0 : 1;
}
