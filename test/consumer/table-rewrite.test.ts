/**
 * A consumer whose table is not the one it filled (dropped and created again, or truncated) rewrites it
 * from the stream by itself; a user may ask for the same rewrite, which runs while live changes keep
 * flowing and deletes rows no longer in the stream. And "retry now" cuts a failing consumer's backoff.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { createSync, ingest } from "../../src/stream/index.js";
import {
  caughtUp,
  createConsumerWorld,
  createSeedTarget,
  fastWorkerOptions,
  startSeedConsumer,
  tableMatchesStream,
} from "../helpers/consumer-world.js";
import { randomVersions, startIngestLoad } from "../helpers/convergence.js";
import { waitFor } from "../helpers/wait.js";

const world = await createConsumerWorld();
const target = await createSeedTarget();
const pool = world.store.pool;
const converged = { missing: [], extra: [], stale: [] };

async function fill(provider: string, batches: number, keys = 3000) {
  const sync = await createSync(pool, { name: provider, provider });
  const clock = { now: 0 };
  for (let i = 0; i < batches; i++) await ingest(pool, sync.id, randomVersions(500, keys, clock));
  return { sync, clock };
}

async function createTable(name: string, sql: string) {
  await target.admin.query(sql);
  await target.admin.query(`grant all on ${target.schema}.${name} to ${target.user}`);
}

test("a table dropped and created again is rewritten from the stream by the consumer itself", async () => {
  const { sync, clock } = await fill("dropped", 4);
  const consumer = await startSeedConsumer(world, target, "dropped", { provider: "dropped" });
  const table = `${target.schema}.dropped`;
  await waitFor("caught up", () => caughtUp(world, consumer.id), 30_000);
  assert.ok(Number((await target.admin.query(`select count(*) from ${table}`)).rows[0].count) > 1000);

  await target.admin.query(`drop table ${table}`);
  await ingest(pool, sync.id, randomVersions(20, 3000, clock));
  await waitFor(
    "failing on the missing table",
    async () => (await world.consumers.get(consumer.id)).state === "failing",
  );
  await createTable("dropped", consumer.create_table_sql);

  const done = await waitFor(
    "the table rewritten",
    async () => {
      const c = await world.consumers.get(consumer.id);
      if (c.backfill?.kind === "rewrite" && c.backfill.finished_at && c.lag.records === 0) return c;
      const row = await pool.query(
        "select table_oid::text, table_relfilenode::text, rewrite_reason from sequin_consumers where id = $1",
        [consumer.id],
      );
      const oid = await target.admin.query(`select '${table}'::regclass::oid::text as oid`);
      const events = (await world.consumers.events(consumer.id)).map(
        (e) => `${e.from_state}->${e.to_state} ${e.note}`,
      );
      throw new Error(
        JSON.stringify({
          state: c.state,
          backfill: c.backfill,
          lag: c.lag,
          error: c.last_error,
          row: row.rows,
          oid: oid.rows,
          events,
        }),
      );
    },
    30_000,
  );
  assert.match(done.backfill!.reason!, /dropped and created again/);
  assert.equal(done.state, "live");
  assert.deepEqual(await tableMatchesStream(pool, target.admin, table, { provider: "dropped" }), converged);
  const notes = (await world.consumers.events(consumer.id)).map((e) => e.note ?? "");
  assert.ok(
    notes.some((n) => /rewriting the table from the stream: the table was dropped and created again/.test(n)),
    notes.join("\n"),
  );
  assert.ok(
    notes.some((n) => /the table was rewritten from the stream/.test(n)),
    notes.join("\n"),
  );
});

test("a truncated table is noticed at the next change and rewritten", async () => {
  const { sync, clock } = await fill("truncated", 3);
  const consumer = await startSeedConsumer(world, target, "truncated", { provider: "truncated" });
  const table = `${target.schema}.truncated`;
  await waitFor("caught up", () => caughtUp(world, consumer.id), 30_000);
  await target.admin.query(`truncate ${table}`);
  await ingest(pool, sync.id, randomVersions(5, 3000, clock));
  const done = await waitFor(
    "the table rewritten",
    async () => {
      const c = await world.consumers.get(consumer.id);
      return c.backfill?.kind === "rewrite" && c.backfill.finished_at && c.lag.records === 0 ? c : undefined;
    },
    30_000,
  );
  assert.match(done.backfill!.reason!, /table is empty/);
  assert.deepEqual(await tableMatchesStream(pool, target.admin, table, { provider: "truncated" }), converged);
});

test("a rewrite asked for by a user: live changes keep flowing, stray rows go, altered rows are mended", async () => {
  const { sync } = await fill("asked", 30, 20_000);
  const consumer = await startSeedConsumer(world, target, "asked", { provider: "asked" });
  const table = `${target.schema}.asked`;
  await waitFor("caught up", () => caughtUp(world, consumer.id), 30_000);
  // what a rewrite must repair: a row that is not in the stream, a row altered by hand, a row deleted by hand
  await target.admin.query(
    `insert into ${table} values (gen_random_uuid(), $1, 'contact', 'stray', '{}', now(), now(), now())`,
    [sync.id],
  );
  await target.admin.query(
    `update ${table} set payload = '{"altered": true}' where sequin_id = (select min(sequin_id::text)::uuid from ${table} where upstream_id <> 'stray')`,
  );
  await target.admin.query(
    `delete from ${table} where sequin_id = (select max(sequin_id::text)::uuid from ${table} where upstream_id <> 'stray')`,
  );

  const load = startIngestLoad(pool, [sync.id], 3000, 1);
  const asked = await world.consumers.backfill(consumer.id);
  assert.equal(asked.backfill?.kind, "rewrite");
  assert.equal(asked.backfill?.finished_at, null);
  assert.ok(asked.backfill!.total > 1000, JSON.stringify(asked.backfill));
  assert.match(
    asked.health.notes.join(" "),
    /Rewriting the table from the stream since \S+ \(asked for by a user\)/,
  );
  assert.equal(asked.health.status, "healthy");
  // a change made now reaches the table long before the rewrite's walk through the stream ends
  await ingest(pool, sync.id, [
    {
      collection_id: "marker",
      upstream_id: "m",
      payload: { m: 1 },
      upstream_updated_at: new Date().toISOString(),
    },
  ]);
  await load.stop();
  const done = await waitFor(
    "the rewrite finished and caught up",
    async () => {
      const c = await world.consumers.get(consumer.id);
      return c.backfill?.finished_at && c.lag.records === 0 ? c : undefined;
    },
    30_000,
  );
  assert.equal(done.backfill!.progress, 1);
  const marker = await target.admin.query(`select inserted_at from ${table} where collection_id = 'marker'`);
  assert.ok(
    marker.rows[0].inserted_at < new Date(done.backfill!.finished_at!),
    `the live change was applied at ${marker.rows[0].inserted_at.toISOString()}, the rewrite ended at ${done.backfill!.finished_at}`,
  );
  assert.ok(done.backfill!.deleted! >= 1, "the stray row was deleted");
  assert.deepEqual(await tableMatchesStream(pool, target.admin, table, { provider: "asked" }), converged);
});

test("retry now: a failing consumer retries at once instead of after its backoff", async () => {
  const slow = await createConsumerWorld({
    ...fastWorkerOptions,
    runner: { ...fastWorkerOptions.runner, retryBackoff: { initialMs: 60_000, maxMs: 60_000 } },
  });
  const sync = await createSync(slow.store.pool, { name: "retry", provider: "retry" });
  const consumer = await startSeedConsumer(slow, target, "retried", { provider: "retry" });
  const table = `${target.schema}.retried`;
  await waitFor("live", async () => (await slow.consumers.get(consumer.id)).state === "live");
  await target.admin.query(`alter table ${table} add constraint no_bad check (payload->>'bad' is null)`);
  await ingest(slow.store.pool, sync.id, [
    {
      collection_id: "c",
      upstream_id: "1",
      payload: { bad: true },
      upstream_updated_at: "2024-01-01T00:00:00Z",
    },
  ]);
  await waitFor("failing", async () => (await slow.consumers.get(consumer.id)).state === "failing");
  await target.admin.query(`alter table ${table} drop constraint no_bad`);
  const asked = Date.now();
  await slow.consumers.retry(consumer.id);
  await waitFor("live again", async () => (await slow.consumers.get(consumer.id)).state === "live", 10_000);
  assert.ok(Date.now() - asked < 10_000);
  assert.deepEqual(
    await tableMatchesStream(slow.store.pool, target.admin, table, { provider: "retry" }),
    converged,
  );
  await assert.rejects(slow.consumers.retry(consumer.id), /is live: only a failing consumer/);
});
