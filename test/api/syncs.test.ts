import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { test } from "node:test";
import { startTestService } from "../helpers/service.js";

const api = await startTestService();

let names = 0;
async function createSync(extra: Record<string, unknown> = {}) {
  const response = await api.request("POST", "/v1/syncs", {
    body: { name: `sync-${++names}`, provider: "hubspot", ...extra },
  });
  assert.equal(response.status, 201, JSON.stringify(response.body));
  return response.body as { id: string; name: string; collections: string[] };
}

function record(upstreamId: string, at: string, payload: Record<string, unknown> = { n: upstreamId }) {
  return { collection_id: "contact", upstream_id: upstreamId, payload, upstream_updated_at: at };
}

async function streamRows(syncId: string) {
  const { rows } = await api.store.pool.query(
    "select collection_id, upstream_id, payload, upstream_updated_at, deleted from sequin_records where sync_id = $1 order by collection_id, upstream_id",
    [syncId],
  );
  return rows;
}

test("syncs: create, list, get, update, remove a collection, delete", async () => {
  const created = await createSync({
    collections: ["contact", "deal"],
    external_id: "portal-1",
    metadata: { region: "eu" },
  });
  assert.match(created.id, /^[0-9a-f-]{36}$/);
  assert.deepEqual(
    { ...created, id: undefined, inserted_at: undefined },
    {
      id: undefined,
      name: created.name,
      provider: "hubspot",
      collections: ["contact", "deal"],
      external_id: "portal-1",
      metadata: { region: "eu" },
      inserted_at: undefined,
    },
  );
  assert.ok(!Number.isNaN(Date.parse((created as unknown as { inserted_at: string }).inserted_at)));

  const list = await api.request("GET", "/v1/syncs");
  assert.equal(list.status, 200);
  assert.ok(list.body.data.some((s: { id: string }) => s.id === created.id));

  const got = await api.request("GET", `/v1/syncs/${created.id}`);
  assert.deepEqual(got.body, created);

  const patched = await api.request("PATCH", `/v1/syncs/${created.id}`, {
    body: { name: `${created.name}-renamed`, metadata: { region: "us" } },
  });
  assert.equal(patched.status, 200);
  assert.equal(patched.body.name, `${created.name}-renamed`);
  assert.deepEqual(patched.body.metadata, { region: "us" });
  assert.equal(patched.body.external_id, "portal-1");

  const badPatch = await api.request("PATCH", `/v1/syncs/${created.id}`, { body: { provider: "other" } });
  assert.equal(badPatch.status, 400);
  assert.deepEqual(badPatch.body.validation_errors, { provider: ["unknown field"] });

  const removed = await api.request("DELETE", `/v1/syncs/${created.id}/collections/deal`);
  assert.equal(removed.status, 204);
  assert.equal(removed.body, "");
  assert.deepEqual((await api.request("GET", `/v1/syncs/${created.id}`)).body.collections, ["contact"]);
  const unknownCollection = await api.request("DELETE", `/v1/syncs/${created.id}/collections/nope`);
  assert.equal(unknownCollection.status, 404);

  const deleted = await api.request("DELETE", `/v1/syncs/${created.id}`);
  assert.equal(deleted.status, 204);
  assert.equal((await api.request("GET", `/v1/syncs/${created.id}`)).status, 404);
  assert.equal((await api.request("DELETE", `/v1/syncs/${created.id}`)).status, 404);
  assert.equal(
    (await api.request("PATCH", `/v1/syncs/${randomUUID()}`, { body: { name: "x" } })).status,
    404,
  );
});

test("ingest: records are accepted, newer versions replace older ones, older ones are stale", async () => {
  const sync = await createSync();
  const first = await api.request("POST", `/v1/syncs/${sync.id}/records`, {
    body: {
      records: [
        record("1", "2024-05-01T12:00:00Z", { name: "Ada" }),
        record("2", "2024-05-01T12:00:00.123456+02:00", { name: "Bob" }),
        { ...record("3", "2024-05-01T12:00:00Z"), collection_id: "deal" },
      ],
    },
  });
  assert.equal(first.status, 200, JSON.stringify(first.body));
  assert.deepEqual(first.body, { accepted: 3, stale: 0, sanitized: 0 });

  const second = await api.request("POST", `/v1/syncs/${sync.id}/records`, {
    body: {
      records: [
        record("1", "2024-05-02T00:00:00Z", { name: "Ada Lovelace" }),
        record("2", "2024-04-01T00:00:00Z", { name: "older Bob" }),
        {
          collection_id: "deal",
          upstream_id: "3",
          upstream_updated_at: "2024-05-03T00:00:00Z",
          deleted: true,
        },
      ],
    },
  });
  assert.equal(second.status, 200);
  assert.deepEqual(second.body, { accepted: 2, stale: 1, sanitized: 0 });

  const rows = await streamRows(sync.id);
  assert.deepEqual(
    rows.map((r) => [r.collection_id, r.upstream_id, r.payload, r.deleted]),
    [
      ["contact", "1", { name: "Ada Lovelace" }, false],
      ["contact", "2", { name: "Bob" }, false],
      ["deal", "3", null, true],
    ],
  );
  const synced = await api.request("GET", `/v1/syncs/${sync.id}`);
  assert.deepEqual([...synced.body.collections].sort(), ["contact", "deal"]);
});

test("ingest: each invalid record refuses the request, names records[i].field and changes nothing", async () => {
  const sync = await createSync({ collections: ["contact", "gone"] });
  const ok = record("ok", "2024-05-01T00:00:00Z");
  const seed = await api.request("POST", `/v1/syncs/${sync.id}/records`, { body: { records: [ok] } });
  assert.equal(seed.status, 200);
  assert.equal((await api.request("DELETE", `/v1/syncs/${sync.id}/collections/gone`)).status, 204);
  const before = await streamRows(sync.id);

  const { payload: _payload, ...noPayload } = record("x", "2024-05-01T00:00:00Z");
  const cases: { name: string; records: unknown; field: string }[] = [
    {
      name: "bad timestamp",
      records: [ok, record("x", "yesterday")],
      field: "records[1].upstream_updated_at",
    },
    {
      name: "no time zone",
      records: [ok, record("x", "2024-05-01T00:00:00")],
      field: "records[1].upstream_updated_at",
    },
    { name: "missing payload", records: [ok, ok, noPayload], field: "records[2].payload" },
    {
      name: "payload not an object",
      records: [record("x", "2024-05-01T00:00:00Z", [1] as never)],
      field: "records[0].payload",
    },
    {
      name: "empty collection_id",
      records: [{ ...ok, collection_id: "" }],
      field: "records[0].collection_id",
    },
    {
      name: "missing upstream_id",
      records: [ok, { ...ok, upstream_id: undefined }],
      field: "records[1].upstream_id",
    },
    {
      name: "NUL in upstream_id",
      records: [{ ...ok, upstream_id: "a\u0000b" }],
      field: "records[0].upstream_id",
    },
    { name: "deleted not a boolean", records: [{ ...ok, deleted: "yes" }], field: "records[0].deleted" },
    { name: "unknown field", records: [ok, { ...ok, color: 1 }], field: "records[1].color" },
    {
      name: "removed collection",
      records: [ok, { ...ok, collection_id: "gone" }],
      field: "records[1].collection_id",
    },
    {
      name: "payload over 1 MiB",
      records: [ok, record("big", "2024-05-01T00:00:00Z", { blob: "x".repeat(1024 * 1024 + 1) })],
      field: "records[1].payload",
    },
    { name: "no records", records: [], field: "records" },
    { name: "records not an array", records: { 0: ok }, field: "records" },
  ];
  for (const c of cases) {
    const response = await api.request("POST", `/v1/syncs/${sync.id}/records`, {
      body: { records: c.records },
    });
    assert.equal(response.status, 400, `${c.name}: ${JSON.stringify(response.body)}`);
    assert.equal(response.body.code, "validation_failed", c.name);
    assert.ok(response.body.validation_errors[c.field], `${c.name}: ${JSON.stringify(response.body)}`);
    const index = /^records\[(\d+)\]/.exec(c.field)?.[1];
    if (index)
      assert.match(response.body.summary, new RegExp(`(records\\[${index}\\]|record ${index})`), c.name);
  }
  assert.deepEqual(await streamRows(sync.id), before);

  const unknown = await api.request("POST", `/v1/syncs/${randomUUID()}/records`, { body: { records: [ok] } });
  assert.equal(unknown.status, 404);
  assert.equal(unknown.body.code, "not_found");
});

test("records: look up by collection and upstream id", async () => {
  const sync = await createSync();
  const ingest = await api.request("POST", `/v1/syncs/${sync.id}/records`, {
    body: {
      records: [
        record("a", "2024-05-01T00:00:00Z", { v: 1 }),
        record("b", "2024-05-01T00:00:00.5Z", { v: 2 }),
        {
          collection_id: "deal",
          upstream_id: "a",
          upstream_updated_at: "2024-05-01T00:00:00Z",
          deleted: true,
        },
      ],
    },
  });
  assert.equal(ingest.status, 200);

  const all = await api.request("GET", `/v1/syncs/${sync.id}/records`);
  assert.equal(all.status, 200);
  assert.equal(all.body.data.length, 3);
  for (const r of all.body.data) {
    assert.deepEqual(Object.keys(r).sort(), [
      "collection_id",
      "deleted",
      "payload",
      "sequin_id",
      "sync_id",
      "upstream_id",
      "upstream_updated_at",
    ]);
    assert.equal(r.sync_id, sync.id);
  }

  const contacts = await api.request("GET", `/v1/syncs/${sync.id}/records?collection_id=contact`);
  assert.deepEqual(contacts.body.data.map((r: { upstream_id: string }) => r.upstream_id).sort(), ["a", "b"]);

  const one = await api.request("GET", `/v1/syncs/${sync.id}/records?collection_id=contact&upstream_id=b`);
  assert.equal(one.body.data.length, 1);
  assert.deepEqual(one.body.data[0].payload, { v: 2 });
  assert.equal(Date.parse(one.body.data[0].upstream_updated_at), Date.parse("2024-05-01T00:00:00.5Z"));

  const tombstone = await api.request("GET", `/v1/syncs/${sync.id}/records?collection_id=deal&upstream_id=a`);
  assert.equal(tombstone.body.data[0].deleted, true);
  assert.equal(tombstone.body.data[0].payload, null);
  assert.notEqual(tombstone.body.data[0].sequin_id, one.body.data[0].sequin_id);

  const limited = await api.request("GET", `/v1/syncs/${sync.id}/records?limit=1`);
  assert.equal(limited.body.data.length, 1);
  const badLimit = await api.request("GET", `/v1/syncs/${sync.id}/records?limit=0`);
  assert.equal(badLimit.status, 400);
  assert.ok(badLimit.body.validation_errors.limit);

  const unknown = await api.request("GET", `/v1/syncs/${randomUUID()}/records`);
  assert.equal(unknown.status, 404);
});

test("ingest: an impossible calendar date is refused with 400", async () => {
  const sync = await createSync();
  const response = await api.request("POST", `/v1/syncs/${sync.id}/records`, {
    body: { records: [record("x", "2024-02-31T00:00:00Z")] },
  });
  assert.equal(response.status, 400, JSON.stringify(response.body));
  assert.ok(response.body.validation_errors["records[0].upstream_updated_at"]);
});
