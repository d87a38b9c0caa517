/**
 * A consumer plans each batch from readBatchBounds (count, last position, tombstone ids), computed in the
 * store from indexes. It must agree with the stream's keys read one by one (readChangeKeys), for every
 * batch size, start position and filter, with tombstones and re-created records mixed in.
 */
import assert from "node:assert/strict";
import { randomInt } from "node:crypto";
import { test } from "node:test";
import {
  type Cursor,
  createSync,
  ingest,
  readBatchBounds,
  readChangeKeys,
  type StreamFilter,
  streamStart,
} from "../../src/stream/index.js";
import { createTestStore } from "../helpers/database.js";
import { waitFor } from "../helpers/wait.js";

const store = await createTestStore();
const pool = store.pool;
const at = (s: number) => new Date(Date.UTC(2024, 0, 1, 0, 0, s)).toISOString();

test("batch bounds agree with the keys of the stream, for any size, position and filter", async () => {
  const a = await createSync(pool, { name: "bounds-a", provider: "bounds" });
  const b = await createSync(pool, { name: "bounds-b", provider: "bounds" });
  const other = await createSync(pool, { name: "bounds-other", provider: "elsewhere" });
  // 30 rounds of upserts and deletes over 40 keys in three syncs: records get deleted, re-created, moved
  for (let round = 1; round <= 30; round++) {
    for (const sync of [a, b, other]) {
      const batch = Array.from({ length: randomInt(1, 15) }, () => {
        const id = String(randomInt(40));
        return randomInt(3) === 0
          ? { collection_id: "c", upstream_id: id, deleted: true as const, upstream_updated_at: at(round) }
          : { collection_id: "c", upstream_id: id, payload: { round }, upstream_updated_at: at(round) };
      });
      const unique = [...new Map(batch.map((r) => [r.upstream_id, r])).values()];
      await ingest(pool, sync.id, unique);
    }
  }

  // wait until no open transaction hides any of it
  await waitFor("the whole stream is readable", async () => {
    const { rows } = await pool.query(
      "select count(*)::int as n from sequin_records where provider = 'bounds'",
    );
    return (await readChangeKeys(pool, { provider: "bounds" }, streamStart, 1_000_000)).length === rows[0].n;
  });
  // One snapshot for the oracle and the bounds, so that both read below the same watermark (between
  // statements it moves as transactions end, and as sessions of other databases come and go).
  const reader = await pool.connect();
  await reader.query("begin isolation level repeatable read");
  const filters: StreamFilter[] = [{ syncId: a.id }, { syncId: b.id }, { provider: "bounds" }];
  let tombstonesSeen = 0;
  for (const filter of filters) {
    const all = await readChangeKeys(reader, filter, streamStart, 1_000_000);
    assert.ok(all.length > 20, "enough changes to cut into batches");
    for (let i = 0; i < 40; i++) {
      const from = randomInt(all.length + 1);
      const after: Cursor = from === 0 ? streamStart : all[from - 1]!;
      const limit = randomInt(1, 30);
      const expected = all.slice(from, from + limit);
      const bounds = await readBatchBounds(reader, filter, after, limit);
      if (expected.length === 0) {
        assert.equal(bounds, null);
        continue;
      }
      const last = expected.at(-1)!;
      const tombstones = expected.filter((k) => k.deleted).map((k) => k.sequin_id);
      tombstonesSeen += tombstones.length;
      assert.deepEqual(
        { count: bounds?.count, upto: bounds?.upto, tombstones: [...(bounds?.tombstones ?? [])].sort() },
        {
          count: expected.length,
          upto: { txid: last.txid, position: last.position },
          tombstones: tombstones.sort(),
        },
      );
    }
  }
  await reader.query("commit");
  reader.release();
  assert.ok(tombstonesSeen > 0, "some batches held tombstones");
});
