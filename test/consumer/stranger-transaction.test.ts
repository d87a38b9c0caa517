/**
 * Readers wait only for the writers of the stream. A write transaction held open in another database of
 * the store's server (a report, a migration, a forgotten `begin`) must not delay a live consumer: every
 * record ingested while it runs reaches the target within a second. A long write transaction of the
 * stream's own database still holds the consumer back, and once it commits its changes arrive: nothing
 * is skipped.
 *
 * SEQUIN_STRANGER_HOLD_MS: how long the stranger's transaction stays open (default 12 s; 60 s is the
 * case of the issue, and any hold fails on a server-wide watermark at the first record).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { copyField } from "../../src/stream/copy-text.js";
import { createSync, ingest, sequinId } from "../../src/stream/index.js";
import { copyIntoIngestStaging, upsertStagedRecords } from "../../src/stream/record-queries.js";
import {
  createConsumerWorld,
  createSeedTarget,
  startSeedConsumer,
  tableMatchesStream,
} from "../helpers/consumer-world.js";
import { createDatabase } from "../helpers/database.js";
import { waitFor } from "../helpers/wait.js";
import { openWriteTransaction, readWatermark, stillRunning } from "../helpers/write-transaction.js";

const strangerHoldMs = Number(process.env.SEQUIN_STRANGER_HOLD_MS ?? 12_000);
const ownHoldMs = 2_000;
const maxLagMs = 1_000;

const world = await createConsumerWorld();
const target = await createSeedTarget();
const pool = world.store.pool;

const record = (id: string) => ({
  collection_id: "contact",
  upstream_id: id,
  payload: { id },
  upstream_updated_at: "2024-05-01T12:00:00Z",
});

async function liveConsumer(name: string) {
  const sync = await createSync(pool, { name, provider: name });
  const consumer = await startSeedConsumer(world, target, name, { sync_id: sync.id });
  await waitFor(
    "the consumer is live",
    async () => (await world.consumers.get(consumer.id)).state === "live",
  );
  const table = `${target.schema}.${name}`;
  const delivered = async (id: string) =>
    (await target.admin.query(`select 1 from ${table} where upstream_id = $1`, [id])).rowCount === 1;
  const converged = async () =>
    assert.deepEqual(await tableMatchesStream(pool, target.admin, table, { syncId: sync.id }), {
      missing: [],
      extra: [],
      stale: [],
    });
  return { sync, consumer, delivered, converged };
}

test("a write transaction in another database of the store's server does not delay a live consumer", async (t) => {
  const { sync, delivered, converged } = await liveConsumer("busy");
  const stranger = await openWriteTransaction(await createDatabase("stranger"));
  t.after(stranger.end);

  const started = performance.now();
  let records = 0;
  while (performance.now() - started < strangerHoldMs) {
    const id = String(records++);
    await ingest(pool, sync.id, [record(id)]);
    const into = Math.round(performance.now() - started);
    await waitFor(
      `record ${id}, ingested ${into} ms into the stranger's transaction, to reach the target`,
      () => delivered(id),
      maxLagMs,
    );
  }
  assert.ok(await stillRunning(pool, stranger.xid), "the stranger's transaction stayed open throughout");
  const seen = await readWatermark(pool);
  assert.ok(seen.serverXmin <= stranger.xid, "it holds back the server-wide horizon");
  assert.ok(records >= strangerHoldMs / maxLagMs, `records flowed all along (${records})`);
  await stranger.end();
  await converged();
});

test("a long write transaction of the stream's own database holds the consumer back; nothing is skipped", async (t) => {
  const { sync, delivered, converged } = await liveConsumer("held");
  const writer = await pool.connect();
  t.after(() => writer.release(true)); // a connection that failed the test mid-transaction is not reused
  await writer.query("begin");
  const early = [sequinId(sync.id, "contact", "early"), "contact", "early", copyField('{"id":"early"}')];
  await copyIntoIngestStaging(writer, `${[...early, "2024-05-01T12:00:00Z", "f"].join("\t")}\n`);
  await upsertStagedRecords(writer, sync.id, "held");
  // committed after the writer began, with a later txid: it must wait for the writer
  await ingest(pool, sync.id, [record("late")]);
  await sleep(ownHoldMs); // the writer stays open while the consumer polls and is woken
  assert.equal(await delivered("late"), false, "the later change waited for the open writer");

  await writer.query("commit");
  await waitFor(
    "both changes to reach the target",
    async () => (await delivered("early")) && delivered("late"),
  );
  await converged();
});
