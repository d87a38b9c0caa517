/**
 * Invariant 7: a write the target refuses halts only that consumer, isolates the exact record (the batch is
 * split and everything before the record is applied), shows the record and SQLSTATE in its health, retries
 * with backoff, and continues by itself once the table is fixed. Nothing is skipped.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { createSync, type IncomingRecord, ingest } from "../../src/stream/index.js";
import {
  createConsumerWorld,
  createSeedTarget,
  startSeedConsumer,
  tableMatchesStream,
} from "../helpers/consumer-world.js";
import { waitFor } from "../helpers/wait.js";

const world = await createConsumerWorld();
const target = await createSeedTarget();
const pool = world.store.pool;

const records = (n: number, second: number, value: (i: number) => string): IncomingRecord[] =>
  Array.from({ length: n }, (_, i) => ({
    collection_id: "contact",
    upstream_id: String(i),
    payload: { email: value(i) },
    upstream_updated_at: new Date(Date.UTC(2024, 0, 1, 0, 0, second)).toISOString(),
  }));

test("a user's unique constraint: the bad record is isolated, named with its SQLSTATE, and retried until fixed", async () => {
  const sync = await createSync(pool, { name: "constraint", provider: "crm" });
  const consumer = await startSeedConsumer(world, target, "constrained", { provider: "crm" }, "records");
  const table = `${target.schema}.records`;
  await waitFor("live", async () => (await world.consumers.get(consumer.id)).state === "live");
  // the kind of constraint the seed warns about
  await target.admin.query(`create unique index email_unique on ${table} ((payload->>'email'))`);
  const verify = await world.consumers.verify(consumer.id);
  assert.equal(verify.ok, true);
  assert.ok(
    verify.warnings.some((w) => w.kind === "constraint"),
    "verify warns about the user's constraint",
  );

  // records 0..99 unique, except that 37 and 12 share an email
  await ingest(
    pool,
    sync.id,
    records(100, 1, (i) => (i === 37 ? "u12@x" : `u${i}@x`)),
  );
  const failing = await waitFor("failing", async () => {
    const c = await world.consumers.get(consumer.id);
    return c.state === "failing" ? c : undefined;
  });
  // of the two colliding records, the one later in stream order is refused
  const { rows: order } = await pool.query<{ upstream_id: string }>(
    "select upstream_id from sequin_records where sync_id = $1 order by txid, position",
    [sync.id],
  );
  const ids = order.map((r) => r.upstream_id);
  const refused = ids.indexOf("37") > ids.indexOf("12") ? "37" : "12";
  assert.equal(failing.health.status, "unhealthy");
  assert.equal(failing.last_error?.sqlstate, "23505");
  assert.equal(failing.last_error?.record?.upstream_id, refused);
  assert.match(failing.health.notes.join(" "), new RegExp(`contact/${refused}.*23505`));
  const { rows } = await target.admin.query(`select count(*)::int as n from ${table}`);
  const laterIds = ids.slice(ids.indexOf(refused) + 1);
  const { rows: applied } = await target.admin.query(
    `select upstream_id from ${table} where upstream_id = any($1)`,
    [laterIds],
  );
  assert.deepEqual(applied, [], "nothing behind the refused record skipped ahead of it");
  assert.equal(rows[0].n, ids.indexOf(refused), "everything before it was applied");

  // fixing the table lets the consumer continue by itself
  await target.admin.query("drop index sequin.email_unique");
  await waitFor("recovery", async () => (await world.consumers.get(consumer.id)).state === "live");
  assert.deepEqual(await tableMatchesStream(pool, target.admin, table, { provider: "crm" }), {
    missing: [],
    extra: [],
    stale: [],
  });
  const recovered = await world.consumers.get(consumer.id);
  assert.equal(recovered.health.status, "healthy");
  const events = await world.consumers.events(consumer.id);
  assert.deepEqual(events.map((e) => e.to_state).slice(0, 3), ["live", "failing", "live"]);
});

test("a dropped table and lost privileges: failing with the SQLSTATE, then recovery", async () => {
  const sync = await createSync(pool, { name: "dropped", provider: "erp" });
  const consumer = await startSeedConsumer(world, target, "dropped", { provider: "erp" }, "erp_records");
  const table = `${target.schema}.erp_records`;
  await waitFor("live", async () => (await world.consumers.get(consumer.id)).state === "live");

  await target.admin.query(`drop table ${table}`);
  await ingest(
    pool,
    sync.id,
    records(5, 1, (i) => `a${i}`),
  );
  const dropped = await waitFor("failing on the dropped table", async () => {
    const c = await world.consumers.get(consumer.id);
    return c.state === "failing" ? c : undefined;
  });
  assert.equal(dropped.last_error?.sqlstate, "42P01");
  await target.admin.query(consumer.create_table_sql);
  await target.admin.query(`revoke all on ${table} from ${target.user}`);
  await waitFor(
    "failing on privileges",
    async () => (await world.consumers.get(consumer.id)).last_error?.sqlstate === "42501",
  );
  await target.admin.query(`grant all on ${table} to ${target.user}`);
  await waitFor("recovery", async () => (await world.consumers.get(consumer.id)).state === "live");
  assert.deepEqual(await tableMatchesStream(pool, target.admin, table, { provider: "erp" }), {
    missing: [],
    extra: [],
    stale: [],
  });
});
