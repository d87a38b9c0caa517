import assert from "node:assert/strict";
import { test } from "node:test";
import { SequinError } from "../../src/errors.js";
import {
  createSync,
  deleteSync,
  getSync,
  ingest,
  lookupRecords,
  maxPayloadBytes,
  readChanges,
  recordCounts,
  removeCollection,
  sequinId,
  streamStart,
  updateSync,
} from "../../src/stream/index.js";
import { createTestStore } from "../helpers/database.js";
import { waitFor } from "../helpers/wait.js";

const store = await createTestStore();
const at = (s: number) => new Date(Date.UTC(2024, 0, 1, 0, 0, s)).toISOString();

async function count(syncId: string): Promise<number> {
  const { rows } = await store.pool.query(
    "select count(*)::int as n from sequin_records where sync_id = $1",
    [syncId],
  );
  return rows[0].n;
}

test("sequin_id is stable per key across delete and re-create", async () => {
  const sync = await createSync(store.pool, { name: "ids", provider: "hubspot" });
  const key = { collection_id: "contact", upstream_id: "42" };
  await ingest(store.pool, sync.id, [{ ...key, payload: { a: 1 }, upstream_updated_at: at(1) }]);
  const [first] = await lookupRecords(store.pool, sync.id, key);
  await ingest(store.pool, sync.id, [{ ...key, deleted: true, upstream_updated_at: at(2) }]);
  const [tombstone] = await lookupRecords(store.pool, sync.id, key);
  assert.equal(tombstone?.deleted, true);
  assert.equal(tombstone?.payload, null);
  await ingest(store.pool, sync.id, [{ ...key, payload: { a: 3 }, upstream_updated_at: at(3) }]);
  const [recreated] = await lookupRecords(store.pool, sync.id, key);
  assert.equal(first?.sequin_id, tombstone?.sequin_id);
  assert.equal(first?.sequin_id, recreated?.sequin_id);
  assert.equal(first?.sequin_id, sequinId(sync.id, "contact", "42"));
  assert.deepEqual(recreated?.payload, { a: 3 });
  // different keys, including ones that would collide under naive concatenation, get different ids
  const ids = new Set([
    sequinId(sync.id, "a", "b:c"),
    sequinId(sync.id, "a:b", "c"),
    sequinId(sync.id, "ab", "c"),
    sequinId(sync.id, "a", "bc"),
  ]);
  assert.equal(ids.size, 4);
});

test("each invalid record refuses the whole call, names its index and field, and changes nothing", async () => {
  const sync = await createSync(store.pool, { name: "validation", provider: "hubspot" });
  const good = { collection_id: "contact", upstream_id: "1", payload: { a: 1 }, upstream_updated_at: at(1) };
  const cases: [string, Record<string, unknown>, string][] = [
    ["missing payload", { ...good, payload: undefined }, "records[1].payload"],
    ["payload is an array", { ...good, payload: [1] }, "records[1].payload"],
    ["payload is a string", { ...good, payload: "x" }, "records[1].payload"],
    [
      "no time zone",
      { ...good, upstream_updated_at: "2024-01-01T00:00:00" },
      "records[1].upstream_updated_at",
    ],
    [
      "not a date",
      { ...good, upstream_updated_at: "2024-13-45T00:00:00Z" },
      "records[1].upstream_updated_at",
    ],
    ["empty upstream id", { ...good, upstream_id: "" }, "records[1].upstream_id"],
    ["numeric upstream id", { ...good, upstream_id: 7 }, "records[1].upstream_id"],
    ["missing collection", { ...good, collection_id: undefined }, "records[1].collection_id"],
    ["unknown field", { ...good, colour: "red" }, "records[1]"],
    ["deleted not boolean", { ...good, deleted: "yes" }, "records[1].deleted"],
    [
      "payload over the size limit",
      { ...good, payload: { big: "x".repeat(maxPayloadBytes) } },
      "records[1].payload",
    ],
  ];
  for (const [name, bad, field] of cases) {
    const records = [good, bad] as never[];
    await assert.rejects(
      ingest(store.pool, sync.id, records),
      (error: unknown) => {
        assert.ok(error instanceof SequinError, name);
        assert.equal(error.code, "validation_failed", name);
        assert.ok(
          error.validationErrors?.[field],
          `${name}: expected an error on ${field}, got ${JSON.stringify(error.validationErrors)}`,
        );
        return true;
      },
      name,
    );
  }
  assert.equal(await count(sync.id), 0);
  await assert.rejects(ingest(store.pool, sync.id, []), /records/);
});

test("payloads jsonb cannot hold are sanitized to U+FFFD and counted", async () => {
  const sync = await createSync(store.pool, { name: "sanitize", provider: "hubspot" });
  const result = await ingest(store.pool, sync.id, [
    {
      collection_id: "c",
      upstream_id: "nul",
      payload: { "k\u0000": "a\u0000b" },
      upstream_updated_at: at(1),
    },
    {
      collection_id: "c",
      upstream_id: "lone",
      payload: { s: "x\uD800y", t: ["\uDC00"] },
      upstream_updated_at: at(1),
    },
    {
      collection_id: "c",
      upstream_id: "pair",
      payload: { s: "emoji 😀", b: "back\\u0000slash" },
      upstream_updated_at: at(1),
    },
  ]);
  assert.deepEqual(result, { accepted: 3, stale: 0, sanitized: 2 });
  const byId = new Map((await lookupRecords(store.pool, sync.id, {})).map((r) => [r.upstream_id, r.payload]));
  assert.deepEqual(byId.get("nul"), { "k\uFFFD": "a\uFFFDb" });
  assert.deepEqual(byId.get("lone"), { s: "x\uFFFDy", t: ["\uFFFD"] });
  assert.deepEqual(byId.get("pair"), { s: "emoji 😀", b: "back\\u0000slash" });
});

test("an unknown sync is not found", async () => {
  await assert.rejects(
    ingest(store.pool, "00000000-0000-4000-8000-000000000000", [
      { collection_id: "c", upstream_id: "1", payload: {}, upstream_updated_at: at(1) },
    ]),
    (e: unknown) => e instanceof SequinError && e.code === "not_found",
  );
});

test("collections: added by ingest, removed ones leave the stream and refuse ingest until re-added", async () => {
  const sync = await createSync(store.pool, {
    name: "collections",
    provider: "hubspot",
    collections: ["contact"],
  });
  await ingest(store.pool, sync.id, [
    { collection_id: "contact", upstream_id: "1", payload: {}, upstream_updated_at: at(1) },
    { collection_id: "deal", upstream_id: "1", payload: {}, upstream_updated_at: at(1) },
  ]);
  assert.deepEqual((await getSync(store.pool, sync.id)).collections, ["contact", "deal"]);
  await removeCollection(store.pool, sync.id, "deal");
  assert.deepEqual((await getSync(store.pool, sync.id)).collections, ["contact"]);
  // readers see a change once every older writing transaction on the server ended (other test files
  // write on the same server), so wait for the contact record to be visible
  const changes = await waitFor("the stream to be readable", async () => {
    const read = await readChanges(store.pool, { syncId: sync.id }, streamStart, 100);
    return read.length > 0 ? read : undefined;
  });
  assert.deepEqual(
    changes.map((c) => c.collection_id),
    ["contact"],
  );
  await assert.rejects(
    ingest(store.pool, sync.id, [
      { collection_id: "deal", upstream_id: "2", payload: {}, upstream_updated_at: at(2) },
    ]),
    (e: unknown) => e instanceof SequinError && Boolean(e.validationErrors?.["records[0].collection_id"]),
  );
  await updateSync(store.pool, sync.id, { collections: ["contact", "deal"] });
  await ingest(store.pool, sync.id, [
    { collection_id: "deal", upstream_id: "2", payload: {}, upstream_updated_at: at(2) },
  ]);
  assert.equal(await count(sync.id), 2);
  await deleteSync(store.pool, sync.id);
  assert.equal(await count(sync.id), 0);
  await assert.rejects(
    getSync(store.pool, sync.id),
    (e: unknown) => e instanceof SequinError && e.code === "not_found",
  );
});

test("sync names are unique", async () => {
  await createSync(store.pool, { name: "dup", provider: "hubspot" });
  await assert.rejects(
    createSync(store.pool, { name: "dup", provider: "stripe" }),
    (e: unknown) => e instanceof SequinError && e.code === "conflict",
  );
});

test("record counts per collection: live records and tombstones", async () => {
  const sync = await createSync(store.pool, { name: "counts", provider: "hubspot" });
  await ingest(store.pool, sync.id, [
    { collection_id: "contact", upstream_id: "1", payload: {}, upstream_updated_at: at(1) },
    { collection_id: "contact", upstream_id: "2", payload: {}, upstream_updated_at: at(1) },
    { collection_id: "contact", upstream_id: "3", deleted: true, upstream_updated_at: at(1) },
    { collection_id: "deal", upstream_id: "1", payload: {}, upstream_updated_at: at(1) },
  ]);
  const counts = await recordCounts(store.pool, sync.id);
  assert.deepEqual(Object.fromEntries(counts), {
    contact: { collection_id: "contact", live: 2, deleted: 1 },
    deal: { collection_id: "deal", live: 1, deleted: 0 },
  });
});
