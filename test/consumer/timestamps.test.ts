/**
 * Timestamps travel from the store to the target as text: they must arrive to the microsecond whatever
 * time zone either server runs in and whatever date style the target reads, on both write paths (the
 * first backfill's straight COPY and the staged upsert), including old dates whose zone offsets have
 * seconds in them. inserted_at/updated_at come from the target's clock.
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
import { setDatabaseDefaults } from "../helpers/database.js";
import { waitFor } from "../helpers/wait.js";

// -03:30 today, -03:30:52 (local mean time) before 1935
const world = await createConsumerWorld(fastWorkerOptions, {
  storeSettings: { timezone: "America/St_Johns" },
});
const target = await createSeedTarget();
// +05:45, and day-first dates: a timestamp read in the wrong style would land on another day or fail
await setDatabaseDefaults(target.adminUrl, { timezone: "Asia/Kathmandu", datestyle: "SQL, DMY" });
const pool = world.store.pool;

const instants = [
  "1890-03-04T05:06:07.123456Z",
  "1969-12-31T23:59:59.999999Z",
  "2024-02-29T12:00:00.000001Z",
  "2026-11-05T01:02:03.5Z",
];

function versions(offsetSeconds: number) {
  return instants.map((iso, i) => ({
    collection_id: "c",
    upstream_id: String(i),
    payload: { version: offsetSeconds },
    upstream_updated_at: new Date(Date.parse(iso) + offsetSeconds * 1000)
      .toISOString()
      .replace(/\.\d{3}Z$/, `.${iso.split(".")[1]!.replace("Z", "").padEnd(6, "0")}Z`),
  }));
}

test("timestamps arrive exact on the straight COPY and on the upsert path, in any zone", async () => {
  const sync = await createSync(pool, { name: "zones", provider: "zones" });
  await ingest(pool, sync.id, versions(0));
  const consumer = await startSeedConsumer(world, target, "zones", { provider: "zones" });
  const table = `${target.schema}.zones`;
  const matches = () => tableMatchesStream(pool, target.admin, table, { provider: "zones" });
  await waitFor("backfilled", () => caughtUp(world, consumer.id));
  assert.deepEqual(await matches(), { missing: [], extra: [], stale: [] });

  // newer versions go through the staging table and the upsert
  await ingest(pool, sync.id, versions(86_400 + 1));
  await waitFor("updated", async () => {
    const { rows } = await target.admin.query(
      `select count(*)::int as n from ${table} where (payload->>'version')::int = 86401`,
    );
    return rows[0].n === instants.length;
  });
  assert.deepEqual(await matches(), { missing: [], extra: [], stale: [] });

  const { rows } = await target.admin.query(
    `select bool_and(inserted_at between now() - interval '5 minutes' and now()) as recent,
            bool_and(updated_at > inserted_at) as updated
     from ${table}`,
  );
  assert.deepEqual(rows[0], { recent: true, updated: true });
});
