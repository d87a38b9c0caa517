/** Column names, type decisions and the statement's text, without a database (view-sql.test.ts runs them). */
import assert from "node:assert/strict";
import { test } from "node:test";
import { assignNames, defaultViewName, snakeCase, truncateBytes } from "../../src/views/column-names.js";
import { looksLikeIdentifier } from "../../src/views/value-guards.js";
import { inferColumns, type PathCounts } from "../../src/views/view-inference.js";
import { createViewSql } from "../../src/views/view-sql.js";

function counts(path: string[], partial: Partial<PathCounts>): PathCounts {
  return {
    path,
    present: 0,
    empty: 0,
    objects: 0,
    arrays: 0,
    booleans: 0,
    integers: 0,
    numbers: 0,
    dates: 0,
    timestamps: 0,
    epochMilliseconds: 0,
    epochSeconds: 0,
    ...partial,
  };
}

test("keys become snake_case names", () => {
  const cases: [string, string][] = [
    ["firstName", "first_name"],
    ["SystemModstamp", "system_modstamp"],
    ["HTMLBody", "html_body"],
    ["getHTMLBody", "get_html_body"],
    ["hs_object_id", "hs_object_id"],
    ["NumberOfEmployees__c", "number_of_employees__c"],
    ["signup-source", "signup_source"],
    ["a b", "a_b"],
    ["Prénom", "prénom"],
    ["2fa", "2fa"],
    ["$$$", "field"],
    ["", "field"],
  ];
  for (const [key, name] of cases) assert.equal(snakeCase(key), name, key);
});

test("names are unique, keep the record's columns, and fit in 63 bytes", () => {
  const names = assignNames([
    ["firstName"],
    ["first_name"],
    ["sync_id"],
    ["Sync ID"],
    ["order"],
    ["x".repeat(70)],
    ["x".repeat(80)],
  ]);
  assert.deepEqual(names.slice(0, 5), ["first_name_2", "first_name", "sync_id_2", "sync_id_3", "order"]);
  assert.equal(names[5], "x".repeat(63));
  assert.equal(names[6], `${"x".repeat(61)}_2`);
  for (const name of names) assert.ok(Buffer.byteLength(name) <= 63);
  assert.equal(truncateBytes("é".repeat(40)), "é".repeat(31));
  assert.equal(defaultViewName("records", "Contacts"), "records_contacts");
});

test("keys named like identifiers are never times", () => {
  for (const key of ["id", "ID", "hs_object_id", "AccountId", "userID", "user-id"])
    assert.ok(looksLikeIdentifier(key), key);
  for (const key of ["paid", "created", "createdate", "valid", "Idle"])
    assert.ok(!looksLikeIdentifier(key), key);
});

test("the tightest type all values fit; a few misfits make text and are counted", () => {
  const sampled = 10;
  const columns = inferColumns(
    [
      counts(["flag"], { present: 10, booleans: 10 }),
      counts(["born"], { present: 8, dates: 8, timestamps: 8 }),
      counts(["seen"], { present: 10, dates: 2, timestamps: 10 }),
      counts(["created"], { present: 10, integers: 10, numbers: 10, epochSeconds: 10 }),
      counts(["account_id"], { present: 10, integers: 10, numbers: 10, epochSeconds: 10 }),
      counts(["amount"], { present: 10, integers: 7, numbers: 10 }),
      counts(["employees"], { present: 10, empty: 2, integers: 7, numbers: 7 }),
      counts(["name"], { present: 10, integers: 1, numbers: 1 }),
      counts(["tags"], { present: 10, arrays: 10 }),
      counts(["nothing"], { present: 3, empty: 3 }),
    ],
    sampled,
  );
  const byName = Object.fromEntries(columns.map((c) => [c.name, c]));
  assert.equal(byName.flag!.type, "boolean");
  assert.equal(byName.flag!.nullable, false);
  assert.equal(byName.born!.type, "date");
  assert.equal(byName.born!.nullable, true);
  assert.equal(byName.seen!.type, "timestamptz");
  assert.equal(byName.created!.type, "timestamptz");
  assert.equal(byName.account_id!.type, "bigint");
  assert.equal(byName.amount!.type, "numeric");
  assert.deepEqual(
    [byName.employees!.type, byName.employees!.sample_errors, byName.employees!.nullable],
    ["text", 1, false],
  );
  assert.deepEqual([byName.name!.type, byName.name!.sample_errors], ["text", 0]);
  assert.equal(byName.tags!.type, "jsonb");
  assert.deepEqual([byName.nothing!.type, byName.nothing!.nullable], ["text", true]);
});

test("a first-level object's keys become columns; mixed or deeper ones stay jsonb", () => {
  const columns = inferColumns(
    [
      counts(["address"], { present: 4, objects: 4 }),
      counts(["address", "city"], { present: 4 }),
      counts(["address", "geo"], { present: 4, objects: 4 }),
      counts(["source"], { present: 4, objects: 2 }),
      counts(["source", "kind"], { present: 2 }),
      counts(["metadata"], { present: 4, objects: 4 }),
    ],
    4,
  );
  assert.deepEqual(
    columns.map((c) => [c.name, c.source_path, c.type]),
    [
      ["address_city", "address.city", "text"],
      ["address_geo", "address.geo", "jsonb"],
      ["metadata", "metadata", "jsonb"],
      ["source", "source", "jsonb"],
    ],
  );
});

test("the statement keeps the record's columns, quotes every name and guards every cast", () => {
  const columns = inferColumns(
    [counts(["order"], { present: 1, integers: 1, numbers: 1 }), counts(["it's"], { present: 1 })],
    1,
  );
  const sql = createViewSql({
    view: { schema: "crm", name: "records_deals" },
    table: { schema: "crm", name: "records" },
    collectionId: "deal's",
    columns,
  });
  assert.equal(
    sql,
    [
      'create or replace view "crm"."records_deals" as',
      "select",
      "  record.sequin_id,",
      "  record.sync_id,",
      "  record.upstream_id,",
      "  record.upstream_updated_at,",
      "  whole.doc ->> 'it''s' as \"it_s\",",
      '  case when value."order" ~ \'^-?(0|[1-9][0-9]{0,17})$\' then (value."order")::bigint end as "order"',
      'from "crm"."records" as record',
      "cross join lateral (",
      "  select",
      "    record.payload || '{}'::jsonb as doc",
      "  offset 0",
      ") as whole",
      "cross join lateral (",
      "  select",
      "    whole.doc ->> 'order' as \"order\"",
      "  offset 0",
      ") as value",
      "where record.collection_id = 'deal''s';",
    ].join("\n"),
  );
});

test("past Postgres's 1,600 columns, the objects with the most keys stay jsonb; beyond that, a clear refusal", () => {
  const many = (parent: string, n: number) => [
    counts([parent], { present: 1, objects: 1 }),
    ...Array.from({ length: n }, (_, i) => counts([parent, `k${i}`], { present: 1 })),
  ];
  const columns = inferColumns([...many("properties", 1590), ...many("address", 5), ...many("extra", 20)], 1);
  assert.equal(columns.length, 1 + 5 + 20);
  assert.deepEqual(
    columns.filter((c) => c.type === "jsonb").map((c) => c.source_path),
    ["properties"],
  );
  assert.equal(inferColumns(many("properties", 1596), 1).length, 1596);
  const flat = Array.from({ length: 1700 }, (_, i) => counts([`k${i}`], { present: 1 }));
  assert.throws(() => inferColumns(flat, 1), /1700 keys; a Postgres view holds at most 1596/);
});
