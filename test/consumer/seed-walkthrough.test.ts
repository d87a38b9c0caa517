/**
 * The seed's setup, followed literally: schema, least-privilege user and grants; the target registered with
 * that user; a provider consumer; its create statement run by that user; verify; start. Then backfill, live
 * upserts and deletes, a sync added later, a removed sync keeping its rows, and the seed's views.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import pg from "pg";
import { createSync, deleteSync, type IncomingRecord, ingest } from "../../src/stream/index.js";
import { createConsumerWorld, createSeedTarget, tableMatchesStream } from "../helpers/consumer-world.js";
import { waitFor } from "../helpers/wait.js";

const world = await createConsumerWorld();
const target = await createSeedTarget();
const pool = world.store.pool;

function contacts(from: number, count: number, stage: (i: number) => string, second = 1): IncomingRecord[] {
  return Array.from({ length: count }, (_, k) => ({
    collection_id: "contact",
    upstream_id: String(from + k),
    payload: {
      lifecyclestage: stage(from + k),
      hubspot_owner_id: `owner-${(from + k) % 7}`,
      createdate: "2024-03-01T10:00:00",
    },
    upstream_updated_at: new Date(Date.UTC(2024, 0, 1, 0, 0, second)).toISOString(),
  }));
}

test("the seed's setup, backfill, live changes, syncs added and removed, and views", async () => {
  const acme = await createSync(pool, { name: "acme", provider: "hubspot", collections: ["contact"] });
  await ingest(
    pool,
    acme.id,
    contacts(0, 2500, (i) => (i % 3 === 0 ? "lead" : "customer")),
  );
  const other = await createSync(pool, { name: "other-provider", provider: "stripe" });
  await ingest(pool, other.id, [
    {
      collection_id: "invoice",
      upstream_id: "in_1",
      payload: { a: 1 },
      upstream_updated_at: "2024-01-01T00:00:00Z",
    },
  ]);

  const registered = await world.targets.create({
    name: "app",
    connection: {
      host: target.host,
      port: target.port,
      database: target.database,
      username: target.user,
      password: target.password,
      ssl: "disable",
    },
  });
  assert.equal(JSON.stringify(registered).includes(target.password), false, "the password is never returned");

  const consumer = await world.consumers.create({
    name: "hubspot-to-app",
    target_id: registered.id,
    filter: { provider: "hubspot" },
    table: { schema: target.schema, name: "records" },
  });
  assert.equal(consumer.state, "inactive");

  // before the table exists: verify names the problem, start refuses
  const before = await world.consumers.verify(consumer.id);
  assert.equal(before.ok, false);
  assert.equal(before.problems[0]?.kind, "table_missing");
  await assert.rejects(
    world.consumers.start(consumer.id),
    (e: { code?: string }) => e.code === "table_invalid",
  );

  // the seed user runs the handed-out statement
  const asSeedUser = new pg.Client({
    host: target.host,
    port: target.port,
    database: target.database,
    user: target.user,
    password: target.password,
  });
  await asSeedUser.connect();
  try {
    await asSeedUser.query(consumer.create_table_sql);
    assert.deepEqual(await world.consumers.verify(consumer.id), {
      ok: true,
      problems: [],
      warnings: [],
      state: "inactive",
      summary: "The table matches what Sequin writes: ready to start.",
    });

    const started = await world.consumers.start(consumer.id);
    assert.equal(started.state, "backfilling");
    assert.equal(started.backfill?.total, 2500);

    const table = `${target.schema}.records`;
    await waitFor(
      "backfill to finish and go live",
      async () => (await world.consumers.get(consumer.id)).state === "live",
    );
    assert.deepEqual(await tableMatchesStream(pool, target.admin, table, { provider: "hubspot" }), {
      missing: [],
      extra: [],
      stale: [],
    });
    const live = await world.consumers.get(consumer.id);
    assert.equal(live.stats.upserted, 2500);
    assert.equal(live.lag.records, 0);
    assert.equal(live.health.status, "healthy");

    // live upserts and deletes
    await ingest(pool, acme.id, [
      ...contacts(0, 10, () => "lead", 5),
      {
        collection_id: "contact",
        upstream_id: "100",
        deleted: true,
        upstream_updated_at: "2024-01-01T00:00:05Z",
      },
      {
        collection_id: "deal",
        upstream_id: "d1",
        payload: { amount: 10 },
        upstream_updated_at: "2024-01-01T00:00:05Z",
      },
    ]);
    await waitFor("live changes to arrive", async () => {
      const diff = await tableMatchesStream(pool, target.admin, table, { provider: "hubspot" });
      return diff.missing.length + diff.extra.length + diff.stale.length === 0;
    });
    const { rows: deleted } = await target.admin.query(`select 1 from ${table} where upstream_id = '100'`);
    assert.equal(deleted.length, 0, "a delete in the stream deletes the row");

    // a sync added later to the provider is forwarded without touching the consumer
    const later = await createSync(pool, { name: "acme-eu", provider: "hubspot" });
    await ingest(
      pool,
      later.id,
      contacts(0, 50, () => "lead", 9),
    );
    await waitFor("the new sync's rows", async () => {
      const { rows } = await target.admin.query(
        `select count(*)::int as n from ${table} where sync_id = $1`,
        [later.id],
      );
      return rows[0].n === 50;
    });

    // removing a sync stops forwarding but deletes no row
    await deleteSync(pool, later.id);
    await ingest(
      pool,
      acme.id,
      contacts(5000, 1, () => "lead", 9),
    );
    await waitFor("later changes of other syncs", async () => {
      const { rows } = await target.admin.query(`select 1 from ${table} where upstream_id = '5000'`);
      return rows.length === 1;
    });
    const { rows: kept } = await target.admin.query(
      `select count(*)::int as n from ${table} where sync_id = $1`,
      [later.id],
    );
    assert.equal(kept[0].n, 50, "rows of a removed sync stay in the table");
    // and the user may delete them safely
    await asSeedUser.query(`delete from ${table} where sync_id = $1`, [later.id]);

    // the seed's views
    await asSeedUser.query(`create or replace view ${target.schema}.hubspot_leads as (
      select upstream_id, payload ->> 'hubspot_owner_id' as hubspot_owner_id, (payload ->> 'createdate')::timestamp as createdate
      from ${table} where payload ->> 'lifecyclestage' = 'lead')`);
    const { rows: leads } = await asSeedUser.query(
      `select * from ${target.schema}.hubspot_leads order by upstream_id::int`,
    );
    const { rows: expectedLeads } = await pool.query(
      "select count(*)::int as n from sequin_records where sync_id = $1 and not deleted and payload->>'lifecyclestage' = 'lead'",
      [acme.id],
    );
    assert.equal(leads.length, expectedLeads[0].n);
    assert.equal(leads[0].createdate instanceof Date, true);
    // the stripe record never reached the hubspot consumer
    const { rows: stripe } = await target.admin.query(`select 1 from ${table} where sync_id = $1`, [
      other.id,
    ]);
    assert.equal(stripe.length, 0);
  } finally {
    await asSeedUser.end();
  }
});
