/**
 * Invariant 3: a reader that has consumed up to position P never misses a change that commits later with
 * a position ≤ P. Writers here hold their transactions open for random times so commits land out of
 * position order; a reader races them. At the end the reader's view must equal the stream.
 * A naive `position > cursor` reader runs alongside as a control, proving the race was provoked.
 * Meanwhile strangers hold write transactions open in another database of the server: the watermark
 * passes over those, and must still never pass a writer of the stream.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { copyField } from "../../src/stream/copy-text.js";
import {
  type Cursor,
  compareCursors,
  createSync,
  readChanges,
  sequinId,
  streamStart,
} from "../../src/stream/index.js";
import { copyIntoIngestStaging, upsertStagedRecords } from "../../src/stream/record-queries.js";
import { onCleanup } from "../helpers/cleanup.js";
import { createDatabase, createTestStore } from "../helpers/database.js";
import { readWatermark } from "../helpers/write-transaction.js";

const store = await createTestStore();
const strangerDatabase = await createDatabase("stranger");

const writers = 6;
const transactionsPerWriter = 25;
const keys = 200;

test("no reader skips a change when concurrent writers commit out of order", async () => {
  const sync = await createSync(store.pool, { name: "race", provider: "hubspot" });
  let version = 0;

  async function writer(): Promise<void> {
    for (let t = 0; t < transactionsPerWriter; t++) {
      const client = await store.pool.connect();
      try {
        await client.query("begin");
        const rows = new Map<string, string>(); // one version per key per transaction
        for (let r = 0; r < 8; r++) {
          const key = String(Math.floor(Math.random() * keys));
          const v = ++version;
          const ts = new Date(Date.UTC(2024, 0, 1) + v).toISOString();
          const row = [
            sequinId(sync.id, "contact", key),
            "contact",
            key,
            copyField(JSON.stringify({ v })),
            ts,
            "f",
          ];
          rows.set(key, row.join("\t"));
        }
        await copyIntoIngestStaging(client, `${[...rows.values()].join("\n")}\n`);
        await upsertStagedRecords(client, sync.id, "hubspot");
        await sleep(Math.random() * 25); // the write transaction stays open while others commit
        await client.query("commit");
      } catch (error) {
        await client.query("rollback");
        throw error;
      } finally {
        client.release();
      }
    }
  }

  let passedOver = 0; // times the watermark was seen past a running stranger
  async function stranger(): Promise<void> {
    const client = new pg.Client({ connectionString: strangerDatabase });
    await client.connect();
    onCleanup(() => client.end());
    while (writing) {
      await client.query("begin");
      const { rows } = await client.query<{ xid: string }>("select pg_current_xact_id()::text as xid");
      await sleep(Math.random() * 50);
      const seen = await readWatermark(store.pool);
      if (seen.watermark > BigInt(rows[0]!.xid)) passedOver++;
      await client.query("rollback");
    }
  }

  const view = new Map<string, number>();
  let cursor: Cursor = streamStart;
  const naiveView = new Map<string, number>();
  let naivePosition = 0n;
  let writing = true;

  async function reader(): Promise<void> {
    while (true) {
      const done = !writing;
      const changes = await readChanges(store.pool, { provider: "hubspot" }, cursor, 500);
      for (const c of changes) view.set(c.upstream_id, c.payload!.v as number);
      if (changes.length > 0) cursor = changes.at(-1)!;
      const naive = await store.pool.query<{ position: string; upstream_id: string; v: number }>(
        `select position::text, upstream_id, (payload->>'v')::int as v from sequin_records
         where provider = 'hubspot' and position > $1 order by position limit 500`,
        [naivePosition.toString()],
      );
      for (const r of naive.rows) {
        naiveView.set(r.upstream_id, r.v);
        naivePosition = BigInt(r.position);
      }
      // stop once every write is behind the cursor (an open transaction of this database may hold the
      // watermark back for a moment after the writers finished)
      if (done && changes.length === 0 && naive.rows.length === 0) {
        const { rows } = await store.pool.query<Cursor>(
          "select txid::text as txid, position::text as position from sequin_records r where provider = 'hubspot' order by r.txid desc, r.position desc limit 1",
        );
        if (rows[0] && compareCursors(cursor, rows[0]) >= 0) return;
      }
      await sleep(1);
    }
  }

  const readerDone = reader();
  const strangersDone = Promise.all([stranger(), stranger()]);
  await Promise.all(Array.from({ length: writers }, writer));
  writing = false;
  await Promise.all([readerDone, strangersDone]);

  const { rows } = await store.pool.query<{ upstream_id: string; v: number }>(
    "select upstream_id, (payload->>'v')::int as v from sequin_records where sync_id = $1",
    [sync.id],
  );
  const truth = new Map(rows.map((r) => [r.upstream_id, r.v]));
  assert.ok(truth.size > 100, "the writers touched many keys");
  const wrong = [...truth].filter(([k, v]) => view.get(k) !== v);
  assert.deepEqual(wrong, [], "the (txid, position) reader saw every key at its newest version");
  const naiveWrong = [...truth].filter(([k, v]) => naiveView.get(k) !== v);
  assert.ok(naiveWrong.length > 0, "control: a position-only reader misses changes in this race");
  assert.ok(passedOver > 0, "the watermark passed over strangers' open transactions during the race");
});
