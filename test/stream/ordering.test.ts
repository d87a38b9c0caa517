/**
 * Invariant 2 (per-record order) and the stale rule, as a property: whatever the interleaving of versions
 * and deletes, and however they are split into ingest calls, the stream ends with the newest version of
 * every key (a tie on upstream_updated_at goes to the later arrival when it differs).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { createSync, type IncomingRecord, ingest, lookupRecords } from "../../src/stream/index.js";
import { createTestStore } from "../helpers/database.js";

const store = await createTestStore();

interface ModelEntry {
  ts: number;
  deleted: boolean;
  payload: string | null;
}

const versionArb = fc.record({
  key: fc.constantFrom("a", "b", "c", "d"),
  collection: fc.constantFrom("contact", "deal"),
  // few distinct timestamps so ties and reorderings are frequent
  ts: fc.integer({ min: 0, max: 6 }),
  deleted: fc.boolean(),
  value: fc.integer({ min: 0, max: 3 }),
});

const iso = (ts: number) => new Date(Date.UTC(2024, 0, 1, 0, 0, ts)).toISOString();

test("the stream keeps the newest version of every key, for any interleaving", async () => {
  let run = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.array(versionArb, { minLength: 1, maxLength: 40 }),
      fc.array(fc.integer({ min: 1, max: 8 }), { minLength: 1, maxLength: 10 }),
      async (versions, batchSizes) => {
        const sync = await createSync(store.pool, { name: `prop-${run++}`, provider: "hubspot" });
        const model = new Map<string, ModelEntry>();
        let expectedStale = 0;
        const records: IncomingRecord[] = versions.map((v) => ({
          collection_id: v.collection,
          upstream_id: v.key,
          upstream_updated_at: iso(v.ts),
          ...(v.deleted ? { deleted: true } : { payload: { v: v.value, ts: v.ts } }),
        }));
        // split into calls of the generated sizes, in arrival order
        let offset = 0;
        let i = 0;
        let stale = 0;
        while (offset < records.length) {
          const size = batchSizes[i++ % batchSizes.length]!;
          const batch = records.slice(offset, offset + size);
          const result = await ingest(store.pool, sync.id, batch);
          stale += result.stale;
          assert.equal(result.accepted + result.stale, batch.length);
          offset += size;
        }
        // model: one call at a time, in arrival order; inside a call only its newest version per key counts
        offset = 0;
        i = 0;
        while (offset < versions.length) {
          const size = batchSizes[i++ % batchSizes.length]!;
          const batch = versions.slice(offset, offset + size);
          const newestInCall = new Map<string, (typeof batch)[number]>();
          for (const v of batch) {
            const k = `${v.collection}/${v.key}`;
            const prev = newestInCall.get(k);
            if (prev && prev.ts > v.ts) expectedStale++;
            else {
              if (prev) expectedStale++;
              newestInCall.set(k, v);
            }
          }
          for (const [k, v] of newestInCall) {
            const stored = model.get(k);
            const payload = v.deleted ? null : JSON.stringify({ ts: v.ts, v: v.value });
            const differs = !stored || stored.deleted !== v.deleted || stored.payload !== payload;
            if (!stored || v.ts > stored.ts || (v.ts === stored.ts && differs)) {
              model.set(k, { ts: v.ts, deleted: v.deleted, payload });
            } else expectedStale++;
          }
          offset += size;
        }
        assert.equal(stale, expectedStale);
        const stored = await lookupRecords(store.pool, sync.id, { limit: 1000 });
        const actual = new Map(
          stored.map((r) => [
            `${r.collection_id}/${r.upstream_id}`,
            {
              ts: Date.parse(r.upstream_updated_at) / 1000 - Date.UTC(2024, 0, 1) / 1000,
              deleted: r.deleted,
              payload: r.payload === null ? null : JSON.stringify({ ts: r.payload.ts, v: r.payload.v }),
            },
          ]),
        );
        assert.deepEqual(actual, model);
      },
    ),
    { numRuns: 60 },
  );
});

test("a version older than the stored one is stale and changes nothing", async () => {
  const sync = await createSync(store.pool, { name: "stale", provider: "stripe" });
  const newer = {
    collection_id: "invoice",
    upstream_id: "in_1",
    upstream_updated_at: "2024-05-01T10:00:00.000002Z",
  };
  assert.deepEqual(await ingest(store.pool, sync.id, [{ ...newer, payload: { n: 2 } }]), {
    accepted: 1,
    stale: 0,
    sanitized: 0,
  });
  // one microsecond older: stale, even though the millisecond is the same
  const older = { ...newer, upstream_updated_at: "2024-05-01T10:00:00.000001Z", payload: { n: 1 } };
  assert.deepEqual(await ingest(store.pool, sync.id, [older]), { accepted: 0, stale: 1, sanitized: 0 });
  // identical re-send: stale
  assert.deepEqual(await ingest(store.pool, sync.id, [{ ...newer, payload: { n: 2 } }]), {
    accepted: 0,
    stale: 1,
    sanitized: 0,
  });
  const [record] = await lookupRecords(store.pool, sync.id, { upstream_id: "in_1" });
  assert.deepEqual(record?.payload, { n: 2 });
  assert.equal(record?.upstream_updated_at, "2024-05-01T10:00:00.000002Z");
});
