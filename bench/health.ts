/**
 * Health benchmark: what one health round, a `GET /metrics` scrape and `GET /v1/consumers/postgres` cost
 * with many consumers, against the way health was read before (a view per consumer: its target's name and
 * its pending changes, one query each). One throwaway Postgres server with default durability settings,
 * a store seeded in SQL, the real service on it. See docs/benchmarks.md.
 *
 *   npm run bench:health                        1,000 consumers, 100,000 records in 10 syncs
 *   npm run bench:health -- --consumers 5000 --records 500000
 *
 * Two scenarios over the same stream:
 *   live     nine consumers in ten caught up, one in ten behind by 1 to 1,000 changes
 *   behind   every consumer at the start of its stream (thousands of changes each: the worst case)
 * Consumers are stored paused-in-name (desired "paused", state "live"), so no worker runs them and the
 * figures are health alone.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import pino from "pino";
import { loadConfig } from "../src/config.js";
import { selectConsumerStats } from "../src/consumer/consumer-stats-queries.js";
import { Consumers, lagCountCap, pendingCountCap } from "../src/consumer/index.js";
import { migrate } from "../src/db/migrate.js";
import { createStorePool } from "../src/db/pool.js";
import { startService } from "../src/service.js";
import { readPending } from "../src/stream/index.js";
import { loadNote, machineFacts, median, parseFlags, startBenchCluster } from "./bench-helpers.js";

const flags = parseFlags(process.argv.slice(2), { consumers: 1000, records: 100_000, syncs: 10, runs: 10 });

/** Statements sent through a pool, counted. */
function counting(pool: pg.Pool): { pool: pg.Pool; count: () => number; reset: () => void } {
  let n = 0;
  const proxy = new Proxy(pool, {
    get(target, prop) {
      if (prop === "query") {
        return (...args: unknown[]) => {
          n++;
          return (target.query as (...a: unknown[]) => unknown)(...args);
        };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { pool: proxy, count: () => n, reset: () => (n = 0) };
}

async function seed(db: pg.Pool): Promise<void> {
  await db.query(
    `insert into sequin_targets (id, name, host, port, database, username, password_encrypted)
     values (gen_random_uuid(), 'app', '127.0.0.1', 5432, 'app', 'sequin', '\\x00')`,
  );
  await db.query(
    `insert into sequin_syncs (id, name, provider)
     select gen_random_uuid(), 'sync-' || i, 'provider-' || (i % 5) from generate_series(0, $1 - 1) i`,
    [flags.syncs],
  );
  const perSync = Math.ceil(flags.records / flags.syncs);
  // in chunks, several transactions per sync, so the stream interleaves syncs as real ingest does
  const chunk = Math.max(1, Math.floor(perSync / 10));
  for (let done = 0; done < perSync; done += chunk) {
    await db.query(
      `insert into sequin_records (sequin_id, sync_id, provider, collection_id, upstream_id, payload, upstream_updated_at)
       select gen_random_uuid(), s.id, s.provider, 'contact', 'c' || i, jsonb_build_object('i', i), now()
       from sequin_syncs s, generate_series($1::int, $2::int) i`,
      [done, Math.min(perSync, done + chunk) - 1],
    );
  }
  await db.query(
    `insert into sequin_consumers (id, name, target_id, filter_provider, filter_sync_id, table_schema,
       table_name, desired, state)
     select gen_random_uuid(), 'consumer-' || i, (select id from sequin_targets),
       case when i % 2 = 0 then 'provider-' || (i % 5) end,
       case when i % 2 = 1 then (select id from sequin_syncs order by name offset (i % $2) limit 1) end,
       'crm', 'records_' || i, 'paused', 'live'
     from generate_series(0, $1 - 1) i`,
    [flags.consumers, flags.syncs],
  );
  await db.query("vacuum analyze sequin_records");
  await db.query("analyze sequin_consumers");
}

/** Nine in ten consumers at the end of their stream, one in ten 1 to 1,000 changes behind it. */
async function placeLive(db: pg.Pool): Promise<void> {
  await db.query(
    `update sequin_consumers c set cursor_txid = p.txid, cursor_position = p.position
     from (
       select c.id, r.txid, r.position
       from sequin_consumers c
       cross join lateral (
         select r.txid, r.position from sequin_records r
         where (c.filter_provider is not null and r.provider = c.filter_provider)
            or (c.filter_sync_id is not null and r.sync_id = c.filter_sync_id)
         order by r.txid desc, r.position desc
         offset case when hashtext(c.name) % 10 = 0 then 1 + abs(hashtext(c.name || 'x')) % 1000 else 0 end
         limit 1) r
     ) p
     where p.id = c.id`,
  );
}

async function placeAtStart(db: pg.Pool): Promise<void> {
  await db.query("update sequin_consumers set cursor_txid = '0', cursor_position = 0");
}

async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const started = performance.now();
  const value = await fn();
  return [performance.now() - started, value];
}

function ms(values: number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  return `median ${median(sorted).toFixed(1)} ms, max ${sorted[sorted.length - 1]!.toFixed(1)} ms`;
}

/** The way a consumer's health was read until now: its target's name and its pending changes, each a query. */
async function perConsumerViews(db: pg.Pool): Promise<number> {
  const { rows } = await db.query<{
    target_id: string;
    filter_provider: string | null;
    filter_sync_id: string | null;
    cursor_txid: string;
    cursor_position: string;
  }>(
    "select target_id, filter_provider, filter_sync_id, cursor_txid::text, cursor_position::text from sequin_consumers",
  );
  await db.query("select id, provider from sequin_syncs");
  await Promise.all(
    rows.map(async (r) => {
      await db.query("select name from sequin_targets where id = $1", [r.target_id]);
      await readPending(
        db,
        r.filter_provider ? { provider: r.filter_provider } : { syncId: r.filter_sync_id! },
        { txid: r.cursor_txid, position: r.cursor_position },
        pendingCountCap,
      );
    }),
  );
  return 2 + rows.length * 2;
}

async function scenario(
  name: string,
  db: pg.Pool,
  storeUrl: string,
  url: string,
  token: string,
): Promise<void> {
  const counted = counting(db);
  const consumers = new Consumers({
    pool: counted.pool,
    targets: { name: async () => "app", connect: () => Promise.reject(new Error("not in this benchmark")) },
    lagAlertSeconds: 300,
  });
  const rounds: number[] = [];
  let statements = 0;
  for (let i = 0; i < flags.runs; i++) {
    counted.reset();
    const [took] = await timed(() => consumers.statistics());
    rounds.push(took);
    statements = counted.count();
  }
  const statement: number[] = [];
  for (let i = 0; i < flags.runs; i++) {
    const [took] = await timed(() => selectConsumerStats(db, lagCountCap));
    statement.push(took);
  }
  const fresh: number[] = [];
  const freshCpu: number[] = [];
  const cached: number[] = [];
  let bytes = 0;
  for (let i = 0; i < flags.runs; i++) {
    await sleep(1100); // past the service's statistics age: the scrape reads the store
    const cpu = process.cpuUsage();
    const [took, body] = await timed(async () => (await fetch(`${url}/metrics`)).text());
    const used = process.cpuUsage(cpu);
    freshCpu.push((used.user + used.system) / 1000);
    fresh.push(took);
    bytes = body.length;
    const [again] = await timed(async () => (await fetch(`${url}/metrics`)).text());
    cached.push(again);
  }
  const list: number[] = [];
  for (let i = 0; i < Math.min(flags.runs, 5); i++) {
    const [took, response] = await timed(() =>
      fetch(`${url}/v1/consumers/postgres`, { headers: { authorization: `Bearer ${token}` } }),
    );
    await response.text();
    list.push(took);
  }
  // the service's pool gives up waiting for a connection after 4 s, which 2,000 queued statements exceed
  // when consumers are far behind: this pool waits as long as it takes
  const patient = new pg.Pool({ connectionString: storeUrl, max: 10 });
  const before: number[] = [];
  let beforeStatements = 0;
  try {
    for (let i = 0; i < 3; i++) {
      const [took, n] = await timed(() => perConsumerViews(patient));
      before.push(took);
      beforeStatements = n;
    }
  } finally {
    await patient.end();
  }
  console.log(`\n${name}`);
  console.log(`  health round (every consumer's view and lag): ${statements} statements, ${ms(rounds)}`);
  console.log(`  of which the statistics statement:            ${ms(statement)}`);
  console.log(
    `  GET /metrics, statistics read fresh:          ${ms(fresh)} (${Math.round(bytes / 1024)} KB)`,
  );
  console.log(`  of which CPU of this process (service and client): ${ms(freshCpu)}`);
  console.log(`  GET /metrics, within the same round:          ${ms(cached)}`);
  console.log(`  GET /v1/consumers/postgres:                   ${ms(list)}`);
  console.log(
    `  before: a view per consumer:                  ${beforeStatements} statements, ${ms(before)}`,
  );
}

const bench = await startBenchCluster();
const dataDir = mkdtempSync(join(tmpdir(), "sequin-bench-health-"));
try {
  console.log(machineFacts(bench.version).join("\n"));
  console.log(loadNote("before"));
  console.log(
    `${flags.consumers.toLocaleString("en-US")} consumers, ${flags.records.toLocaleString("en-US")} records in ${flags.syncs} syncs, ${flags.runs} runs each`,
  );
  const storeUrl = await bench.createDatabase("health_bench");
  const db = createStorePool(storeUrl, { max: 10, applicationName: "sequin-bench" });
  await migrate(db);
  await seed(db);
  const token = `bench_${randomBytes(12).toString("hex")}`;
  const config = loadConfig({
    SEQUIN_DATABASE_URL: storeUrl,
    SEQUIN_DATA_DIR: dataDir,
    SEQUIN_HOST: "127.0.0.1",
    SEQUIN_PORT: "0",
    SEQUIN_API_TOKEN: token,
    SEQUIN_VAULT_KEY: randomBytes(32).toString("base64"),
    SEQUIN_LOG_LEVEL: "silent",
  });
  const service = await startService(config, { log: pino({ level: "silent" }) });
  try {
    await placeLive(db);
    await scenario(
      "live: 9 in 10 consumers caught up, 1 in 10 behind by 1-1,000 changes",
      db,
      storeUrl,
      service.url,
      token,
    );
    await placeAtStart(db);
    await scenario("behind: every consumer at the start of its stream", db, storeUrl, service.url, token);
  } finally {
    await service.stop();
    await db.end();
  }
  console.log(`\n${loadNote("after")}`);
} finally {
  await bench.destroy();
  rmSync(dataDir, { recursive: true, force: true });
}
