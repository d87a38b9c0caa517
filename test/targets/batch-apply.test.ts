import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { Readable } from "node:stream";
import { test } from "node:test";
import type pg from "pg";
import { to as copyTo } from "pg-copy-streams";
import {
  type ApplyRow,
  applyBatch,
  classifyTargetError,
  createTableSql,
  qualifiedName,
  type TableName,
  toCopyText,
} from "../../src/targets/postgres/index.js";
import { connect, createSeedUser, createTargetDatabase, type TargetDatabase } from "./target-helpers.js";

const db: Promise<TargetDatabase> = createTargetDatabase();
let tables = 0;

async function newTable(schema = "crm", name = `records_${++tables}`): Promise<TableName> {
  const { admin } = await db;
  await admin.query(`create schema if not exists ${qualifiedName({ schema, name }).split(".")[0]}`);
  await admin.query(createTableSql({ schema, name }));
  return { schema, name };
}

const syncId = randomUUID();

function row(id: string, at: string, payload: unknown, deleted = false): ApplyRow {
  return {
    sequin_id: id,
    sync_id: syncId,
    collection_id: "contact",
    upstream_id: `u-${id.slice(0, 8)}`,
    payload: deleted ? null : payload,
    upstream_updated_at: at,
    deleted,
  };
}

interface Stored {
  payload: unknown;
  at: string;
  inserted_at: Date;
  updated_at: Date;
}

async function contents(client: pg.ClientBase, table: TableName): Promise<Map<string, Stored>> {
  const { rows } = await client.query(
    `select sequin_id, payload, to_char(upstream_updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as at,
            inserted_at, updated_at
       from ${qualifiedName(table)}`,
  );
  return new Map(
    rows.map((r) => [
      r.sequin_id,
      { payload: r.payload, at: r.at, inserted_at: r.inserted_at, updated_at: r.updated_at },
    ]),
  );
}

test("toCopyText escapes backslash, tab, newline and carriage return", () => {
  const id = "8f0f7d4e-3c1a-4d1b-9a51-6a5d9e3f0a01";
  const text = toCopyText([
    { ...row(id, "2024-01-01T00:00:00Z", { a: "tab\there" }), upstream_id: "x\ty\\z\r\n" },
    {
      ...row(id, "2024-01-02T00:00:00Z", null, true),
      upstream_updated_at: new Date("2024-01-02T00:00:00.123Z"),
    },
  ]);
  assert.equal(
    text,
    `${id}\t${syncId}\tcontact\tx\\ty\\\\z\\r\\n\t{"a":"tab\\\\there"}\t2024-01-01T00:00:00Z\tf\n` +
      `${id}\t${syncId}\tcontact\tu-8f0f7d4e\t\\N\t2024-01-02T00:00:00.123Z\tt\n`,
  );
  assert.throws(
    () => toCopyText([row(id, "2024-01-01T00:00:00Z", undefined)]),
    /payload is not a JSON value/,
  );
});

test("nasty payloads and ids survive the trip unchanged", async () => {
  const { admin } = await db;
  const table = await newTable();
  const nasty = [
    { s: "back\\slash \\N \\\\ \\t" },
    { s: "tab\tnew\nline\rcr\r\n" },
    { s: `quotes ' " \` and ${"\\"}"` },
    { s: "ünïcødé 日本語 عربى", emoji: "🎉👩‍👩‍👧‍👦", nested: [{ "k\tey": "v\\" }] },
    ["array", 1, 2.5, true, null, { "\\": "\n" }],
    "a bare string",
    42,
    null,
  ];
  const rows = nasty.map((payload) => ({
    ...row(randomUUID(), "2024-01-01T00:00:00Z", payload),
    upstream_id: `id\t\\${JSON.stringify(payload).slice(0, 5)}`,
  }));
  const result = await applyBatch(admin, table, rows);
  assert.deepEqual(result, { upserted: nasty.length, deleted: 0, unchanged: 0, rows: nasty.length });
  const stored = await admin.query(`select sequin_id, upstream_id, payload from ${qualifiedName(table)}`);
  const byId = new Map(stored.rows.map((r) => [r.sequin_id, r]));
  for (const r of rows) {
    assert.deepEqual(byId.get(r.sequin_id)?.payload, r.payload);
    assert.equal(byId.get(r.sequin_id)?.upstream_id, r.upstream_id);
  }
});

test("insert, update to newer, ignore older, skip identical, delete", async () => {
  const { admin } = await db;
  const table = await newTable();
  const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
  const first = [
    row(a, "2024-01-01T00:00:00Z", { v: 1 }),
    row(b, "2024-01-01T00:00:00Z", { v: 1 }),
    row(c, "2024-01-01T00:00:00Z", { v: 1 }),
  ];
  assert.deepEqual(await applyBatch(admin, table, first), { upserted: 3, deleted: 0, unchanged: 0, rows: 3 });
  const before = await contents(admin, table);

  const second = [
    row(a, "2024-01-02T00:00:00Z", { v: 2 }), // newer: updated
    row(b, "2023-12-31T00:00:00Z", { v: 0 }), // older: ignored
    row(c, "2024-01-01T00:00:00Z", { v: 1 }), // identical: not rewritten
  ];
  assert.deepEqual(await applyBatch(admin, table, second), {
    upserted: 1,
    deleted: 0,
    unchanged: 2,
    rows: 3,
  });
  const after = await contents(admin, table);
  assert.deepEqual(after.get(a)?.payload, { v: 2 });
  assert.equal(after.get(a)?.at, "2024-01-02T00:00:00Z");
  assert.deepEqual(after.get(a)?.inserted_at, before.get(a)?.inserted_at);
  assert.ok(after.get(a)!.updated_at > before.get(a)!.updated_at);
  assert.deepEqual(after.get(b), before.get(b));
  assert.deepEqual(after.get(c), before.get(c));

  const third = [
    row(a, "2024-01-01T12:00:00Z", null, true), // a delete older than the stored version: ignored
    row(b, "2024-01-03T00:00:00Z", null, true), // deleted
    row(randomUUID(), "2024-01-03T00:00:00Z", null, true), // delete of an absent record
  ];
  assert.deepEqual(await applyBatch(admin, table, third), { upserted: 0, deleted: 1, unchanged: 2, rows: 3 });
  const final = await contents(admin, table);
  assert.deepEqual([...final.keys()].sort(), [a, c].sort());
  assert.deepEqual(final.get(a), after.get(a));
});

test("re-applying a batch changes nothing", async () => {
  const { admin } = await db;
  const table = await newTable();
  const ids = Array.from({ length: 50 }, () => randomUUID());
  const batch = ids.map((id, i) => row(id, "2024-02-01T00:00:00Z", { i }, i % 10 === 0));
  await applyBatch(
    admin,
    table,
    batch.map((r) => ({
      ...r,
      deleted: false,
      payload: { old: true },
      upstream_updated_at: "2024-01-01T00:00:00Z",
    })),
  );
  assert.deepEqual(await applyBatch(admin, table, batch), {
    upserted: 45,
    deleted: 5,
    unchanged: 0,
    rows: 50,
  });
  const once = await contents(admin, table);
  assert.deepEqual(await applyBatch(admin, table, batch), {
    upserted: 0,
    deleted: 0,
    unchanged: 50,
    rows: 50,
  });
  assert.deepEqual(await contents(admin, table), once);
});

test("in one batch, the newest version of a record wins, ties going to the later row", async () => {
  const { admin } = await db;
  const table = await newTable();
  const [a, b, c, d] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
  await applyBatch(admin, table, [row(d, "2024-01-01T00:00:00Z", { v: 0 })]);
  const before = await contents(admin, table);
  const result = await applyBatch(admin, table, [
    row(a, "2024-01-02T00:00:00Z", { v: 2 }),
    row(a, "2024-01-01T00:00:00Z", { v: 1 }),
    row(b, "2024-01-01T00:00:00Z", { v: 1 }),
    row(b, "2024-01-01T00:00:00Z", { v: "later" }),
    row(c, "2024-01-01T00:00:00Z", { v: 1 }),
    row(c, "2024-01-02T00:00:00Z", null, true),
    row(d, "2024-01-02T00:00:00Z", null, true),
    row(d, "2024-01-03T00:00:00Z", { v: "re-created" }),
  ]);
  assert.deepEqual(result, { upserted: 3, deleted: 0, unchanged: 5, rows: 8 });
  const after = await contents(admin, table);
  assert.deepEqual(
    [...after].map(([id, r]) => [id, r.payload]).sort(),
    [
      [a, { v: 2 }],
      [b, { v: "later" }],
      [d, { v: "re-created" }],
    ].sort(),
  );
  assert.deepEqual(after.get(d)?.inserted_at, before.get(d)?.inserted_at);
});

test("a batch of 20k rows, from another database's COPY TO STDOUT", async () => {
  const { admin } = await db;
  const table = await newTable();
  await admin.query(
    `create table crm.source as
       select gen_random_uuid() as sequin_id, $1::uuid as sync_id, 'deal' as collection_id, 'd' || n as upstream_id,
              jsonb_build_object('n', n, 'text', repeat('x', 1000), 'tab', E'a\\tb') as payload,
              now() as upstream_updated_at, false as deleted
         from generate_series(1, 20000) n`,
    [syncId],
  );
  const reader = await connect((await db).conn);
  const source = reader.query(
    copyTo(
      "copy (select sequin_id, sync_id, collection_id, upstream_id, payload, upstream_updated_at, deleted from crm.source) to stdout",
    ),
  );
  assert.deepEqual(await applyBatch(admin, table, source), {
    upserted: 20000,
    deleted: 0,
    unchanged: 0,
    rows: 20000,
  });
  const { rows } = await admin.query(
    `select count(*)::int as n from ${qualifiedName(table)} t join crm.source s using (sequin_id)
      where t.payload = s.payload and t.upstream_id = s.upstream_id and t.upstream_updated_at = s.upstream_updated_at`,
  );
  assert.equal(rows[0].n, 20000);
});

test("a user-added unique constraint fails the batch with 23505 and leaves the table unchanged", async () => {
  const { admin } = await db;
  const table = await newTable();
  await admin.query(`alter table ${qualifiedName(table)} add constraint one_upstream unique (upstream_id)`);
  const kept = row(randomUUID(), "2024-01-01T00:00:00Z", { kept: true });
  await applyBatch(admin, table, [kept]);
  const before = await contents(admin, table);
  const clash = [
    row(randomUUID(), "2024-01-01T00:00:00Z", { v: 1 }),
    { ...row(randomUUID(), "2024-01-01T00:00:00Z", { v: 2 }), upstream_id: kept.upstream_id },
  ];
  const error = await applyBatch(admin, table, [
    row(kept.sequin_id, "2024-01-02T00:00:00Z", { kept: false }),
    ...clash,
  ]).then(
    () => assert.fail("expected 23505"),
    (e: unknown) => e,
  );
  assert.equal((error as { code?: string }).code, "23505");
  assert.equal(classifyTargetError(error).kind, "refused");
  assert.deepEqual(await contents(admin, table), before);
  const state = await admin.query("select now() = statement_timestamp() as outside");
  assert.equal(state.rows[0].outside, true, "the transaction was rolled back");
});

test("the staging table is created once per connection, and again after a failed first batch", async () => {
  const { conn } = await db;
  const table = await newTable();
  const client = await connect(conn);
  const texts: string[] = [];
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  (client as unknown as { query: unknown }).query = (...args: unknown[]) => {
    const text = typeof args[0] === "string" ? args[0] : (args[0] as { text?: string }).text;
    texts.push(text ?? "");
    return query(...args);
  };
  const bad = { ...row(randomUUID(), "2024-01-01T00:00:00Z", {}), sync_id: "not-a-uuid" };
  await assert.rejects(applyBatch(client, table, [bad]), { code: "22P02" });
  for (let i = 0; i < 3; i++)
    await applyBatch(client, table, [row(randomUUID(), "2024-01-01T00:00:00Z", { i })]);
  assert.equal(texts.filter((t) => t.startsWith("create temp table")).length, 2);
  assert.equal((await contents(client, table)).size, 3);
});

test("a failing source or a dead connection rethrows the original error", async () => {
  const { conn, admin } = await db;
  const table = await newTable();
  const client = await connect(conn);
  const source = Readable.from(
    (function* () {
      yield toCopyText([row(randomUUID(), "2024-01-01T00:00:00Z", { v: 1 })]);
      throw new Error("source went away");
    })(),
  );
  await assert.rejects(applyBatch(client, table, source), { message: "source went away" });
  assert.equal((await contents(client, table)).size, 0);
  await applyBatch(client, table, [row(randomUUID(), "2024-01-01T00:00:00Z", { v: 1 })]);

  const pid = (await client.query("select pg_backend_pid() as pid")).rows[0].pid;
  await admin.query("select pg_terminate_backend($1)", [pid]);
  const error = await applyBatch(client, table, [row(randomUUID(), "2024-01-01T00:00:00Z", { v: 2 })]).then(
    () => assert.fail("expected an error"),
    (e: unknown) => e,
  );
  assert.equal(classifyTargetError(error).kind, "unreachable", String(error));
});

test("weird table names, written by the seed's least-privilege user", async () => {
  const target = await db;
  const schema = 'Mixed "Case"';
  const user = await createSeedUser(target, schema);
  const client = await connect(user);
  for (const name of ["spa ce", 'we"ird', "Mixed Case 🎉"]) {
    const table = { schema, name };
    await client.query(createTableSql(table));
    const id = randomUUID();
    assert.equal((await applyBatch(client, table, [row(id, "2024-01-01T00:00:00Z", { name })])).upserted, 1);
    assert.equal((await applyBatch(client, table, [row(id, "2024-01-02T00:00:00Z", null, true)])).deleted, 1);
    assert.equal((await applyBatch(client, table, [row(id, "2024-01-03T00:00:00Z", { name })])).upserted, 1);
    assert.deepEqual(
      [...(await contents(client, table)).values()].map((r) => r.payload),
      [{ name }],
    );
  }
});

test("aborting while the batch streams in rolls it back", async () => {
  const { conn } = await db;
  const table = await newTable();
  const client = await connect(conn);
  const controller = new AbortController();
  const source = new Readable({ read() {} });
  source.push(toCopyText([row(randomUUID(), "2024-01-01T00:00:00Z", { v: 1 })]));
  const applying = applyBatch(client, table, source, { signal: controller.signal });
  controller.abort();
  await assert.rejects(applying, { name: "AbortError" });
  assert.equal((await contents(client, table)).size, 0);
  assert.equal(
    (await applyBatch(client, table, [row(randomUUID(), "2024-01-01T00:00:00Z", {})])).upserted,
    1,
  );
});
