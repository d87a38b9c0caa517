/**
 * The pieces of the consumer benchmark: two throwaway Postgres servers (the store and the user's target)
 * wired to the real Targets, Consumers and ConsumerWorker as the service wires them, records generated and
 * ingested in bounded chunks (so the process's RSS shows the consumer, not the generator), waiting for a
 * consumer's position, stream/table checksums, and the report. See docs/benchmarks.md ("Consumer").
 */
import { randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import pg from "pg";
import { from as copyFrom, to as copyTo } from "pg-copy-streams";
import pino from "pino";
import {
  type BatchApplied,
  Consumers,
  type ConsumerView,
  ConsumerWorker,
  defaultWorkerOptions,
} from "../src/consumer/index.js";
import { migrate } from "../src/db/migrate.js";
import { createStorePool } from "../src/db/pool.js";
import {
  type Cursor,
  compareCursors,
  createSync,
  type IncomingRecord,
  ingest,
  readStreamHead,
  type StreamFilter,
} from "../src/stream/index.js";
import { Targets } from "../src/targets/index.js";
import { createTableSql, qualifiedName, setupSql, type TableName } from "../src/targets/postgres/index.js";
import { Vault } from "../src/vault/index.js";
import { type BenchCluster, contactPayload, seededRandom, startBenchCluster } from "./bench-helpers.js";

// ---------------------------------------------------------------------------------------------------------
// Flags

export interface ConsumerBenchFlags {
  /** Records of the main sync: raw COPY, backfill, update pass. */
  records: number;
  /** Rows the naive per-row consumer writes. */
  naive: number;
  /** Seconds of steady live ingest. */
  lagSeconds: number;
  /** Syncs of the provider consumer (20 records each). */
  syncs: number;
  quick: boolean;
}

const fullDefaults = { records: 200_000, naive: 10_000, lagSeconds: 20, syncs: 5_000 };
const quickDefaults = { records: 10_000, naive: 1_000, lagSeconds: 5, syncs: 250 };
const flagNames: Record<string, keyof typeof fullDefaults> = {
  "--records": "records",
  "--naive": "naive",
  "--lag-seconds": "lagSeconds",
  "--syncs": "syncs",
};

/** `--quick` picks small defaults; numeric flags given explicitly win either way. */
export function parseConsumerFlags(argv: string[]): ConsumerBenchFlags {
  const quick = argv.includes("--quick");
  const out: ConsumerBenchFlags = { ...(quick ? quickDefaults : fullDefaults), quick };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--quick") continue;
    const name = flagNames[arg];
    if (!name) {
      throw new Error(
        `unknown argument ${JSON.stringify(arg)}; flags: --quick, ${Object.keys(flagNames).join(", ")}`,
      );
    }
    const value = argv[++i];
    const n = Number(value?.replace(/_/g, ""));
    if (!Number.isInteger(n) || n < 1)
      throw new Error(`${arg} must be a positive whole number (got ${value})`);
    out[name] = n;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Records

export const recordsPerCall = 10_000;

export interface RecordSpec {
  count: number;
  /** upstream ids are `firstId`, `firstId + 1`, … */
  firstId?: number;
  updatedAtMs: number;
  seed?: number;
  /** Changes every payload a little (an update pass must carry new content, not only a new timestamp). */
  revision?: number;
}

/** The records of `spec` in chunks of at most `size`, generated lazily: never more than one chunk in memory. */
export function* recordChunks(spec: RecordSpec, size = recordsPerCall): Generator<IncomingRecord[]> {
  const random = seededRandom(spec.seed ?? 42);
  const first = spec.firstId ?? 0;
  const updatedAt = new Date(spec.updatedAtMs).toISOString();
  for (let start = 0; start < spec.count; start += size) {
    const records: IncomingRecord[] = [];
    for (let i = start; i < Math.min(start + size, spec.count); i++) {
      const payload = contactPayload(first + i, random);
      if (spec.revision) payload["revision"] = spec.revision;
      records.push({
        collection_id: "contacts",
        upstream_id: String(100_000 + first + i),
        payload,
        upstream_updated_at: updatedAt,
      });
    }
    yield records;
  }
}

/** Ingests every chunk, `concurrency` calls at a time; throws unless every record was accepted. */
export async function ingestAll(
  pool: pg.Pool,
  syncId: string,
  chunks: Iterable<IncomingRecord[]>,
  concurrency = 2,
): Promise<number> {
  const iterator = chunks[Symbol.iterator]();
  let accepted = 0;
  const caller = async () => {
    for (let next = iterator.next(); !next.done; next = iterator.next()) {
      const result = await ingest(pool, syncId, next.value, { validated: true });
      if (result.accepted !== next.value.length) {
        throw new Error(`ingest accepted ${result.accepted} of ${next.value.length} records`);
      }
      accepted += result.accepted;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, caller));
  return accepted;
}

// ---------------------------------------------------------------------------------------------------------
// The world: store, target, service parts

const targetSchema = "sequin";

export interface ConsumerBench {
  storeServer: BenchCluster;
  targetServer: BenchCluster;
  store: pg.Pool;
  storeUrl: string;
  /** Superuser pool on the target database. */
  targetAdmin: pg.Pool;
  /** The seed's least-privilege user on the target, as consumers connect. */
  targetUser: { host: string; port: number; database: string; user: string; password: string };
  targets: Targets;
  consumers: Consumers;
  worker: ConsumerWorker;
  targetId: string;
  progress: Progress;
  /** A scratch directory removed by close(). */
  tmpDir: string;
  close(): Promise<void>;
}

export async function startConsumerBench(): Promise<ConsumerBench> {
  // Two servers, as in production: the store and the user's database. Started one after the other to keep
  // initdb's CPU burst out of the other's start.
  const storeServer = await startBenchCluster();
  const targetServer = await startBenchCluster();
  const storeUrl = await storeServer.createDatabase("sequin");
  const targetUrl = await targetServer.createDatabase("crm");
  const store = createStorePool(storeUrl, { applicationName: "sequin-bench" });
  await migrate(store);

  const targetAdmin = new pg.Pool({ connectionString: targetUrl, max: 3 });
  targetAdmin.on("error", () => {});
  const u = new URL(targetUrl);
  const targetUser = {
    host: u.hostname,
    port: Number(u.port),
    database: u.pathname.slice(1),
    user: "sequin_bench",
    password: randomBytes(12).toString("base64url"),
  };
  await targetAdmin.query(
    setupSql({
      schema: targetSchema,
      user: targetUser.user,
      database: targetUser.database,
      password: targetUser.password,
    }),
  );

  const targets = new Targets(store, Vault.fromKey(randomBytes(32)));
  const progress = new Progress();
  const log = pino({ level: "warn" }, pino.destination(2));
  const worker = new ConsumerWorker(
    {
      store,
      storeUrl,
      log,
      connectTarget: async (id) => progress.watchCommits(await targets.connect(id)),
      probeTarget: (id) => targets.test(id),
      onBatch: (batch) => progress.batchApplied(batch),
      onError: (consumer, error) => progress.errored(consumer.name, error),
    },
    defaultWorkerOptions,
  );
  await worker.start();
  progress.worker = worker;
  const consumers = new Consumers({ pool: store, targets, lagAlertSeconds: 300, worker });
  const target = await targets.create({
    name: "bench-target",
    connection: {
      host: targetUser.host,
      port: targetUser.port,
      database: targetUser.database,
      username: targetUser.user,
      password: targetUser.password,
      ssl: "disable",
    },
  });
  const tmpDir = join(tmpdir(), `sequin-bench-consumer-${randomBytes(4).toString("hex")}`);
  return {
    storeServer,
    targetServer,
    store,
    storeUrl,
    targetAdmin,
    targetUser,
    targets,
    consumers,
    worker,
    targetId: target.id,
    progress,
    tmpDir,
    async close() {
      await worker.stop().catch(() => {});
      await store.end().catch(() => {});
      await targetAdmin.end().catch(() => {});
      await storeServer.destroy();
      await targetServer.destroy();
      const { rm } = await import("node:fs/promises");
      await rm(tmpDir, { recursive: true, force: true });
    },
  };
}

/** An empty contract table in the seed's schema, writable by the seed's user. */
export async function createContractTable(bench: ConsumerBench, name: string): Promise<TableName> {
  const table = { schema: targetSchema, name };
  await bench.targetAdmin.query(createTableSql(table));
  await bench.targetAdmin.query(`grant all on ${qualifiedName(table)} to ${bench.targetUser.user}`);
  return table;
}

/** A defined (not started) consumer with its table created. */
export async function defineConsumer(
  bench: ConsumerBench,
  name: string,
  filter: { provider: string } | { sync_id: string },
): Promise<ConsumerView> {
  const consumer = await bench.consumers.create({
    name,
    target_id: bench.targetId,
    filter,
    table: { schema: targetSchema, name },
  });
  await createContractTable(bench, name);
  return consumer;
}

export function streamFilterOf(filter: { provider: string } | { sync_id: string }): StreamFilter {
  return "provider" in filter ? filter : { syncId: filter.sync_id };
}

/** A connection to the target as the seed's user (what a hand-written consumer or a raw COPY would use). */
export async function connectTargetUser(bench: ConsumerBench): Promise<pg.Client> {
  const t = bench.targetUser;
  const client = new pg.Client({
    host: t.host,
    port: t.port,
    database: t.database,
    user: t.user,
    password: t.password,
  });
  await client.connect();
  return client;
}

export async function createBenchSync(bench: ConsumerBench, name: string, provider: string): Promise<string> {
  return (await createSync(bench.store, { name, provider, collections: ["contacts"] })).id;
}

/**
 * Lets each timed phase start from a quiet state: the stream table and the target's tables vacuumed and
 * analyzed (as autovacuum leaves them, so that it does not start in the middle of a phase) and a checkpoint
 * on both servers, so no phase pays for writing out the previous one's pages.
 */
export async function settle(bench: ConsumerBench): Promise<void> {
  await bench.store.query("vacuum (analyze) sequin_records");
  await bench.targetAdmin.query("vacuum (analyze)");
  await bench.store.query("checkpoint");
  await bench.targetAdmin.query("checkpoint");
  // V8 and malloc hand freed memory back lazily: collect, give them a moment, collect again
  collectGarbage();
  await new Promise((resolve) => setTimeout(resolve, 500));
  collectGarbage();
}

let gc: (() => void) | undefined;

/** A full V8 garbage collection, so that RSS samples after it show live memory. */
export function collectGarbage(): void {
  if (!gc) {
    setFlagsFromString("--expose-gc");
    gc = runInNewContext("gc") as () => void;
  }
  gc();
}

// ---------------------------------------------------------------------------------------------------------
// Waiting for consumers and timing their commits

type Waiter = { consumerId: string; head: Cursor; resolve: () => void };

/**
 * Follows the worker's batches: resolves waits for a consumer's position, records the wall-clock time of
 * each target commit (when the rows became visible there), and remembers errors.
 */
export class Progress {
  worker: ConsumerWorker | undefined;
  /** Date.now() at each acknowledged target COMMIT, in order. */
  readonly commitTimes: number[] = [];
  readonly batches: { consumerId: string; rows: number; seconds: number; at: number }[] = [];
  readonly errors: string[] = [];
  private readonly waiters = new Set<Waiter>();

  /** Wraps a target connection so that every `commit` it acknowledges is timed. */
  watchCommits(client: pg.Client): pg.Client {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    // biome-ignore lint/suspicious/noExplicitAny: a pass-through of pg's overloaded query()
    (client as any).query = (...args: unknown[]) => {
      const result = query(...args);
      if (args[0] === "commit" && result instanceof Promise) {
        result.then(
          () => this.commitTimes.push(Date.now()),
          () => {},
        );
      }
      return result;
    };
    return client;
  }

  batchApplied(batch: BatchApplied): void {
    const { consumer, rows, seconds } = batch;
    this.batches.push({ consumerId: consumer.id, rows, seconds, at: Date.now() });
    for (const waiter of this.waiters) this.check(waiter);
  }

  errored(consumer: string, error: { kind: string; sqlstate?: string }): void {
    this.errors.push(`${consumer}: ${error.kind}${error.sqlstate ? ` (${error.sqlstate})` : ""}`);
  }

  /** Resolves once the consumer's position reaches `head`; fails after `timeoutMs`. */
  async reached(consumerId: string, head: Cursor, timeoutMs = 30 * 60_000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    let poll: NodeJS.Timeout | undefined;
    const waiter: Waiter = { consumerId, head, resolve: () => {} };
    try {
      await new Promise<void>((resolve, reject) => {
        waiter.resolve = resolve;
        this.waiters.add(waiter);
        timer = setTimeout(
          () => reject(new Error(`consumer ${consumerId} did not reach the head in ${timeoutMs} ms`)),
          timeoutMs,
        );
        // a backstop for a runner that starts at the head already (no batch to report)
        poll = setInterval(() => this.check(waiter), 100);
        this.check(waiter);
      });
    } finally {
      this.waiters.delete(waiter);
      clearTimeout(timer);
      clearInterval(poll);
    }
  }

  private check(waiter: Waiter): void {
    const snapshot = this.worker?.snapshot(waiter.consumerId);
    if (snapshot && compareCursors(snapshot.cursor, waiter.head) >= 0) waiter.resolve();
  }
}

export async function streamHead(bench: ConsumerBench, filter: StreamFilter): Promise<Cursor> {
  return readStreamHead(bench.store, filter);
}

// ---------------------------------------------------------------------------------------------------------
// COPY baseline

const exportColumns =
  "sequin_id, sync_id, collection_id, upstream_id, payload, upstream_updated_at, now(), now()";

/** Writes the sync's live rows as COPY text in the contract's column order; returns the file. */
export async function exportLiveRows(bench: ConsumerBench, syncId: string): Promise<string> {
  const { mkdir } = await import("node:fs/promises");
  await mkdir(bench.tmpDir, { recursive: true });
  const file = join(bench.tmpDir, "live-rows.copy");
  const client = await bench.store.connect();
  try {
    // syncId comes from createSync (a UUID): safe to inline, COPY takes no parameters
    const out = client.query(
      copyTo(
        `copy (select ${exportColumns} from sequin_records
          where sync_id = '${syncId}' and not deleted order by txid, position) to stdout`,
      ),
    );
    await pipeline(out, createWriteStream(file));
  } finally {
    client.release();
  }
  return file;
}

/** `COPY … FROM STDIN` of an exported file into `table` (connect as the target's user). */
export async function copyFileInto(client: pg.Client, table: TableName, file: string): Promise<number> {
  const copy = client.query(
    copyFrom(
      `copy ${qualifiedName(table)} (sequin_id, sync_id, collection_id, upstream_id, payload, upstream_updated_at, inserted_at, updated_at) from stdin`,
    ),
  );
  await pipeline(createReadStream(file, { highWaterMark: 256 * 1024 }), copy);
  return copy.rowCount;
}

// ---------------------------------------------------------------------------------------------------------
// Checks

const digest = `count(*)::int as n,
  coalesce(sum(hashtextextended(sequin_id::text || payload::text
    || (extract(epoch from upstream_updated_at) * 1000000)::bigint::text, 0)), 0)::text as h`;

/** Fails unless the table holds exactly the stream's live records for the filter, newest versions. */
export async function assertTableMatchesStream(
  bench: ConsumerBench,
  table: TableName,
  filter: StreamFilter,
): Promise<number> {
  const where = "provider" in filter ? "provider = $1" : "sync_id = $1";
  const value = "provider" in filter ? filter.provider : filter.syncId;
  const want = (
    await bench.store.query<{ n: number; h: string }>(
      `select ${digest} from sequin_records where ${where} and not deleted`,
      [value],
    )
  ).rows[0]!;
  const have = (
    await bench.targetAdmin.query<{ n: number; h: string }>(`select ${digest} from ${qualifiedName(table)}`)
  ).rows[0]!;
  if (want.n !== have.n || want.h !== have.h) {
    throw new Error(
      `table ${qualifiedName(table)} does not match the stream: ${have.n} rows (checksum ${have.h}), expected ${want.n} (checksum ${want.h})`,
    );
  }
  return have.n;
}

// ---------------------------------------------------------------------------------------------------------
// Statistics and the report

/** The value at quantile q (0…1) of sorted values, nearest rank. */
export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

export const mb = (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MB`;

export function rate(n: number): string {
  return n >= 1000 ? `${(n / 1000).toFixed(1)}k` : n.toFixed(0);
}

/** Prints rows as an aligned table: first column left-aligned, the rest right-aligned. */
export function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 0 || i === cells.length - 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join("  ")
      .trimEnd();
  console.log(line(header));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const row of rows) console.log(line(row));
}
