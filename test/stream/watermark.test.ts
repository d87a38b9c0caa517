/**
 * The stream's watermark (`sequin_stream_watermark()`, migration 007). Readers wait for open write
 * transactions of the store's own database, never for one in another database of the store's server; a
 * long writer of the stream holds readers back until it commits, and then its changes are read, in order.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import pg from "pg";
import { copyField } from "../../src/stream/copy-text.js";
import { createSync, ingest, readChanges, sequinId, streamStart } from "../../src/stream/index.js";
import { copyIntoIngestStaging, upsertStagedRecords } from "../../src/stream/record-queries.js";
import { createDatabase, createTestStore } from "../helpers/database.js";
import { openWriteTransaction, readWatermark, stillRunning } from "../helpers/write-transaction.js";

const store = await createTestStore();
const pool = store.pool;
const strangerDatabase = await createDatabase("stranger");
const record = (id: string) => ({
  collection_id: "contact",
  upstream_id: id,
  payload: { id },
  upstream_updated_at: "2024-05-01T12:00:00Z",
});

test("a write transaction in another database does not hold back the watermark", async (t) => {
  const sync = await createSync(pool, { name: "foreign", provider: "foreign" });
  const stranger = await openWriteTransaction(strangerDatabase);
  t.after(stranger.end);
  // committed after the stranger began: the stranger is among the transactions this reader sees running
  await ingest(pool, sync.id, [record("1")]);
  const seen = await readWatermark(pool);
  assert.ok(await stillRunning(pool, stranger.xid));
  assert.ok(seen.serverXmin <= stranger.xid, "the server-wide horizon waits for the stranger");
  assert.ok(seen.watermark > stranger.xid, "the watermark does not");
  const changes = await readChanges(pool, { syncId: sync.id }, streamStart, 10);
  assert.deepEqual(
    changes.map((c) => c.upstream_id),
    ["1"],
  );
});

test("a long write transaction of the stream holds readers back until it commits, and is then read", async (t) => {
  const sync = await createSync(pool, { name: "own", provider: "own" });
  const filter = { syncId: sync.id };
  const stranger = await openWriteTransaction(strangerDatabase);
  t.after(stranger.end);
  const writer = await pool.connect();
  t.after(() => writer.release(true)); // a connection that failed the test mid-transaction is not reused
  await writer.query("begin");
  const row = [sequinId(sync.id, "contact", "early"), "contact", "early", copyField('{"id":"early"}')];
  await copyIntoIngestStaging(writer, `${[...row, "2024-05-01T12:00:00Z", "f"].join("\t")}\n`);
  await upsertStagedRecords(writer, sync.id, "own");
  const { rows } = await writer.query<{ xid: string }>("select pg_current_xact_id()::text as xid");
  const writerXid = BigInt(rows[0]!.xid);
  // a change committed after both
  await ingest(pool, sync.id, [record("late")]);

  const seen = await readWatermark(pool);
  assert.ok(seen.serverXmin <= stranger.xid, "the server-wide horizon waits for the older stranger");
  assert.ok(seen.watermark > stranger.xid, "the watermark passes over it");
  assert.ok(seen.watermark <= writerXid, "and waits for the open writer of the stream");
  assert.deepEqual(await readChanges(pool, filter, streamStart, 10), [], "the later change waits");

  await writer.query("commit");
  const changes = await readChanges(pool, filter, streamStart, 10);
  assert.deepEqual(
    changes.map((c) => c.upstream_id),
    ["early", "late"],
    "once the writer commits, its change is read, before the later one",
  );
  assert.ok(await stillRunning(pool, stranger.xid), "while the stranger still runs");
});

test("any open write transaction of the store's own database holds readers back, by design", async (t) => {
  const sync = await createSync(pool, { name: "bystander", provider: "bystander" });
  // writes no record, but could write one before it commits: nothing proves otherwise
  const bystander = await openWriteTransaction(store.url);
  t.after(bystander.end);
  await ingest(pool, sync.id, [record("1")]);
  assert.ok((await readWatermark(pool)).watermark <= bystander.xid);
  assert.deepEqual(await readChanges(pool, { syncId: sync.id }, streamStart, 10), []);
  await bystander.end();
  assert.equal((await readChanges(pool, { syncId: sync.id }, streamStart, 10)).length, 1);
});

test("the watermark reads sessions afresh, not the copy a transaction cached at its first read", async (t) => {
  const sync = await createSync(pool, { name: "fresh", provider: "fresh" });
  const reader = await pool.connect();
  t.after(() => reader.release(true));
  await reader.query("begin"); // read committed: each statement takes a new snapshot
  await reader.query("select count(*) from pg_stat_activity"); // caches the sessions for the transaction
  const stranger = await openWriteTransaction(strangerDatabase); // absent from that copy
  t.after(stranger.end);
  await ingest(pool, sync.id, [record("1")]);
  const seen = await readWatermark(reader);
  assert.ok(seen.serverXmin <= stranger.xid, "the reader's snapshot sees the stranger running");
  assert.ok(seen.watermark > stranger.xid, "and the watermark knows it is in another database");
  await reader.query("commit");
});

test("within one repeatable-read snapshot the watermark stays the same", async (t) => {
  const sync = await createSync(pool, { name: "repeatable", provider: "repeatable" });
  const stranger = await openWriteTransaction(strangerDatabase);
  t.after(stranger.end);
  await ingest(pool, sync.id, [record("1")]);
  const reader = await pool.connect();
  t.after(() => reader.release(true));
  await reader.query("begin isolation level repeatable read");
  const first = await readWatermark(reader);
  assert.ok(first.watermark > stranger.xid);
  await stranger.end(); // still running in the reader's snapshot, gone from the server's sessions
  assert.deepEqual(await readWatermark(reader), first);
  await reader.query("commit");
});

test("a store role without privileges sees other roles' transactions in other databases", async (t) => {
  const role = `sequin_reader_${randomBytes(4).toString("hex")}`;
  const password = randomBytes(12).toString("base64url");
  await pool.query(`create role ${role} login password '${password}'`);
  const url = new URL(store.url);
  url.username = role;
  url.password = password;
  const reader = new pg.Client({ connectionString: url.toString() });
  await reader.connect();
  t.after(async () => {
    await reader.end();
    await pool.query(`drop role ${role}`);
  });
  const sync = await createSync(pool, { name: "unprivileged", provider: "unprivileged" });
  const stranger = await openWriteTransaction(strangerDatabase); // as the server's superuser
  t.after(stranger.end);
  await ingest(pool, sync.id, [record("1")]);
  const seen = await readWatermark(reader);
  assert.ok(seen.serverXmin <= stranger.xid);
  assert.ok(seen.watermark > stranger.xid);
});
