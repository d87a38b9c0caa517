/**
 * A first backfill COPYs rows straight into the table; a table that already holds some of the records
 * (here: older versions, and a row whose record was deleted since) must still end equal to the stream.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { createSync, ingest, sequinId } from "../../src/stream/index.js";
import {
  caughtUp,
  createConsumerWorld,
  createSeedTarget,
  startSeedConsumer,
  tableMatchesStream,
} from "../helpers/consumer-world.js";
import { waitFor } from "../helpers/wait.js";

const world = await createConsumerWorld();
const target = await createSeedTarget();
const pool = world.store.pool;
const at = (s: number) => new Date(Date.UTC(2024, 0, 1, 0, 0, s)).toISOString();

test("a fresh table is backfilled straight, with tombstones removed", async () => {
  const sync = await createSync(pool, { name: "fresh", provider: "fresh" });
  await ingest(
    pool,
    sync.id,
    Array.from({ length: 2500 }, (_, i) => ({
      collection_id: "c",
      upstream_id: String(i),
      payload: { i },
      upstream_updated_at: at(1),
    })),
  );
  await ingest(pool, sync.id, [
    { collection_id: "c", upstream_id: "7", deleted: true, upstream_updated_at: at(2) },
  ]);
  const consumer = await startSeedConsumer(world, target, "fresh", { provider: "fresh" });
  await waitFor("caught up", () => caughtUp(world, consumer.id));
  assert.deepEqual(
    await tableMatchesStream(pool, target.admin, `${target.schema}.fresh`, { provider: "fresh" }),
    {
      missing: [],
      extra: [],
      stale: [],
    },
  );
  const { rows } = await target.admin.query(
    `select count(*)::int as n, bool_and(inserted_at = updated_at) as same from ${target.schema}.fresh`,
  );
  assert.deepEqual(rows[0], { n: 2499, same: true });
});

test("a table already holding older versions and deleted records converges", async () => {
  const sync = await createSync(pool, { name: "prefilled", provider: "prefilled" });
  const records = Array.from({ length: 3000 }, (_, i) => ({
    collection_id: "c",
    upstream_id: String(i),
    payload: { version: 2 },
    upstream_updated_at: at(2),
  }));
  await ingest(pool, sync.id, records);
  await ingest(pool, sync.id, [
    { collection_id: "c", upstream_id: "5", deleted: true, upstream_updated_at: at(3) },
  ]);
  // the table exists with stale rows of some records (e.g. left from an earlier consumer)
  const table = `${target.schema}.prefilled`;
  await target.admin.query(`create table ${table} (
    sequin_id uuid not null primary key, sync_id uuid not null, collection_id text not null, upstream_id text not null,
    payload jsonb not null, upstream_updated_at timestamptz not null, inserted_at timestamptz not null,
    updated_at timestamptz not null)`);
  for (const upstreamId of ["5", "1500", "2999"]) {
    await target.admin.query(
      `insert into ${table} values ($1, $2, 'c', $3, '{"version": 1}', $4, now(), now())`,
      [sequinId(sync.id, "c", upstreamId), sync.id, upstreamId, at(1)],
    );
  }
  const consumer = await startSeedConsumer(world, target, "prefilled", { provider: "prefilled" });
  await waitFor("caught up", () => caughtUp(world, consumer.id));
  assert.deepEqual(await tableMatchesStream(pool, target.admin, table, { provider: "prefilled" }), {
    missing: [],
    extra: [],
    stale: [],
  });
});
