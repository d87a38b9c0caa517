/**
 * Health for 1,000 consumers, cheaply: one health round of one process (every consumer's health and
 * lag, their target's health derived from theirs, every sourced sync's, and the alert check) costs at most
 * 3 store statements,
 * a /metrics scrape in the same round none more, and the lag read this way equals each consumer's own
 * count.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { test } from "node:test";
import pino from "pino";
import { consumerStatsSql, selectConsumerStats } from "../../src/consumer/consumer-stats-queries.js";
import { Consumers, lagCountCap } from "../../src/consumer/index.js";
import { alertEntities, HealthWatcher, syncEntities } from "../../src/health/alerts/index.js";
import { ServiceMetrics } from "../../src/health/metrics.js";
import { StatisticsSnapshot } from "../../src/health/statistics-snapshot.js";
import { Sources } from "../../src/sources/index.js";
import { readPending } from "../../src/stream/index.js";
import { Targets } from "../../src/targets/index.js";
import type { Vault } from "../../src/vault/index.js";
import { createTestStore } from "../helpers/database.js";
import { countingPool } from "../helpers/query-counter.js";

const consumerCount = 1000;
const store = await createTestStore();
const db = store.pool;

const targetId = randomUUID();
const hubspot = randomUUID();
const stripe = randomUUID();
// its consumers waiting for it make it unhealthy; already alerted about, so a round has nothing to queue
await db.query(
  `insert into sequin_targets (id, name, host, port, database, username, password_encrypted, alerted_status)
   values ($1, 'app', '127.0.0.1', 5432, 'app', 'sequin', '\\x00', 'unhealthy')`,
  [targetId],
);
await db.query(
  "insert into sequin_syncs (id, name, provider) values ($1, 'acme-hubspot', 'hubspot'), ($2, 'acme-stripe', 'stripe')",
  [hubspot, stripe],
);
const addRecords = (syncId: string, provider: string, n: number) =>
  db.query(
    `insert into sequin_records (sequin_id, sync_id, provider, collection_id, upstream_id, payload, upstream_updated_at)
     select gen_random_uuid(), $1, $2, 'contact', 'c' || i, jsonb_build_object('i', i), now()
     from generate_series(1, $3) i`,
    [syncId, provider, n],
  );
await addRecords(hubspot, "hubspot", 2000);
await addRecords(stripe, "stripe", 1000);
const cursors = (
  await db.query<{ txid: string; position: string }>(
    "select txid::text, position::text from sequin_records where provider = 'hubspot' order by txid, position",
  )
).rows;
const stripeEnd = (
  await db.query<{ txid: string; position: string }>(
    "select txid::text, position::text from sequin_records where provider = 'stripe' order by txid desc, position desc limit 1",
  )
).rows[0]!;

// four kinds of consumer: hubspot from the start, hubspot part way, a sync caught up, a sync waiting for
// its target (already alerted about, so a round has nothing to queue)
await db.query(
  `insert into sequin_consumers (id, name, target_id, filter_provider, filter_sync_id, table_schema, table_name,
     desired, state, cursor_txid, cursor_position, alerted_status)
   select gen_random_uuid(), 'consumer-' || i, $1,
     case when i % 4 < 2 then 'hubspot' end, case when i % 4 >= 2 then $2::uuid end,
     'crm', 'records_' || i, 'active',
     case when i % 4 = 3 then 'waiting_for_target' else 'live' end,
     case i % 4 when 0 then '0' when 1 then ($3::text[])[1 + i % 2000] when 2 then $4 else '0' end::xid8,
     case i % 4 when 0 then 0 when 1 then ($5::bigint[])[1 + i % 2000] when 2 then $6::bigint else 0 end,
     case when i % 4 = 3 then 'unhealthy' else 'healthy' end
   from generate_series(0, $7 - 1) i`,
  [
    targetId,
    stripe,
    cursors.map((c) => c.txid),
    stripeEnd.txid,
    cursors.map((c) => c.position),
    stripeEnd.position,
    consumerCount,
  ],
);

const counted = countingPool(db);
const consumers = new Consumers({
  pool: counted.pool,
  targets: {
    name: async () => "app",
    connect: async () => {
      throw new Error("no target in this test");
    },
  },
  lagAlertSeconds: 300,
});
// a long age: what is tested is that a scrape shares the round's read, on a machine of any speed
const statistics = new StatisticsSnapshot(() => consumers.statistics(), 60_000);
// as the service does: consumers and targets from one read, sourced syncs from one more
const sources = new Sources({ pool: counted.pool, vault: {} as Vault });
const watcher = new HealthWatcher(
  counted.pool,
  async () => [...alertEntities(await statistics.get()), ...syncEntities(await sources.statistics())],
  ["webhook"],
  pino({ level: "silent" }),
  {
    intervalMs: 2000,
    settleMs: 0,
  },
);
const metrics = new ServiceMetrics(async () => (await statistics.get()).map((s) => s.view));

test("the statistics statement: its text, and index scans of the stream only", async () => {
  const all = consumerStatsSql(false);
  const one = consumerStatsSql(true);
  assert.match(all, /limit \$1/);
  assert.doesNotMatch(all, /\$2/);
  assert.match(one, /where c\.id = \$2/);
  const { rows } = await db.query<{ "QUERY PLAN": string }>(`explain ${all}`, [lagCountCap]);
  const plan = rows.map((r) => r["QUERY PLAN"]).join("\n");
  assert.match(plan, /sequin_records_by_provider/, plan);
  assert.match(plan, /sequin_records_by_sync/, plan);
  assert.doesNotMatch(plan, /Seq Scan on sequin_records/, plan);
});

test(`one health round of one process for ${consumerCount} consumers: at most 3 store statements`, async () => {
  counted.reset();
  await watcher.check();
  const round = counted.count;
  assert.ok(round <= 3, `a health round sent ${round} statements:\n${counted.texts.join("\n---\n")}`);
  // the round judged the target too, from the same read
  const judged = alertEntities(await statistics.get()).find((e) => e.kind === "target");
  assert.equal(judged?.health.status, "unhealthy");
  assert.equal(judged?.alerted, "unhealthy");

  // a scrape in the same round reads the same statistics: no statement more
  const text = await metrics.text();
  assert.equal(counted.count, round, "the scrape reused the round's statistics");
  assert.match(text, new RegExp(`sequin_consumers ${consumerCount}`));
  assert.match(
    text,
    new RegExp(`sequin_consumer_lag_records\\{consumer="consumer-0"\\} ${Math.min(2000, lagCountCap)}`),
  );
  assert.match(text, /sequin_consumer_healthy\{consumer="consumer-3"\} 0/);

  // the API's list is set-based too, and one consumer costs a fixed number
  counted.reset();
  const list = await consumers.list();
  assert.equal(list.length, consumerCount);
  assert.ok(counted.count <= 2, `the list sent ${counted.count} statements`);
  counted.reset();
  await consumers.get(list[5]!.id);
  assert.ok(counted.count <= 3, `one consumer sent ${counted.count} statements`);

  // targets speak the same vocabulary, and their list is set-based as well
  counted.reset();
  const [target] = await new Targets(counted.pool, {} as Vault).list();
  assert.ok(counted.count <= 2, `the targets list sent ${counted.count} statements`);
  assert.equal(target!.health.status, "unhealthy");
  assert.deepEqual(target!.health.checks, [{ name: "reachable", status: "unhealthy" }]);
  assert.deepEqual(target!.health.notes, [
    `${consumerCount / 4} consumers are waiting for this target to be reachable again.`,
  ]);
});

test("each consumer's lag equals its own count of pending changes", async () => {
  const list = await consumers.list();
  const byName = new Map(list.map((c) => [c.name, c]));
  const rows = await db.query<{
    name: string;
    filter_provider: string | null;
    filter_sync_id: string | null;
    cursor_txid: string;
    cursor_position: string;
  }>(
    "select name, filter_provider, filter_sync_id, cursor_txid::text, cursor_position::text from sequin_consumers",
  );
  for (const row of rows.rows.filter((_, i) => i % 37 === 0)) {
    const filter = row.filter_provider ? { provider: row.filter_provider } : { syncId: row.filter_sync_id! };
    const own = await readPending(
      db,
      filter,
      { txid: row.cursor_txid, position: row.cursor_position },
      lagCountCap,
    );
    const view = byName.get(row.name)!;
    assert.equal(view.lag.records, own.records, row.name);
    if (own.records === 0) assert.equal(view.lag.seconds, 0, row.name);
    else assert.ok(view.lag.seconds >= 0 && view.lag.seconds < 300, `${row.name}: ${view.lag.seconds}`);
  }
  assert.equal(byName.get("consumer-0")!.lag.records, Math.min(2000, lagCountCap), "counted up to the cap");
  assert.equal(byName.get("consumer-2")!.lag.records, 0);
  assert.equal(byName.get("consumer-3")!.health.status, "unhealthy");
  assert.equal(byName.get("consumer-3")!.lag.records, Math.min(1000, lagCountCap));

  // the count stops at the cap, the oldest change stays exact
  const capped = await selectConsumerStats(db, 500);
  const first = capped.find((r) => r.name === "consumer-0")!;
  assert.equal(first.pending_records, 500);
  assert.ok(first.oldest_pending_at instanceof Date);
});
