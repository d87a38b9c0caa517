/**
 * The statement on real Postgres, on random payloads mixing every kind of value the guards must tell apart:
 * the view runs, it has one row per record of the collection, and every typed column holds a value exactly
 * where the sampled row has a non-empty one (the inference counted with the view's own guards, so a column
 * it typed has no value the view would drop). Then the inference query's counts on a known sample.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import pg from "pg";
import { createTableSql } from "../../src/targets/postgres/index.js";
import { TypedViews } from "../../src/views/index.js";
import { countPayloads } from "../../src/views/view-queries.js";
import { onCleanup } from "../helpers/cleanup.js";
import { createDatabase } from "../helpers/database.js";

const url = await createDatabase("views");
const admin = new pg.Client({ connectionString: url });
await admin.connect();
onCleanup(() => admin.end());
await admin.query("create schema crm");
const table = { schema: "crm", name: "records" };
await admin.query(createTableSql(table));

const views = new TypedViews({
  consumer: async () => ({ target_id: "the test database", table }),
  connect: async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    return client;
  },
});

const scalar = fc.oneof(
  fc.constantFrom(
    "",
    "0",
    "-0",
    "42",
    "007",
    "1.5",
    "1e5",
    "1e1000",
    "NaN",
    "true",
    "false",
    "yes",
    "2024-01-02",
    "2024-02-30",
    "2024-01-02T03:04:05Z",
    "2024-01-02T03:04:05.000+0000",
    "2024-01-02T03:04:05",
    "1700000000000",
    "1700000000",
    "n/a",
    "02134",
  ),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom(1700000000, 1700000000123, 1.2345678901234567e19),
  fc.string({ maxLength: 8 }),
);
const value = fc.oneof(
  { weight: 6, arbitrary: scalar },
  { weight: 1, arbitrary: fc.array(scalar, { maxLength: 3 }) },
  {
    weight: 2,
    arbitrary: fc.dictionary(fc.constantFrom("a", "b", "createdAt", "id"), scalar, { maxKeys: 3 }),
  },
);
const keys = fc.constantFrom(
  "amount",
  "created",
  "flag",
  "user id",
  "Order",
  "order",
  "nested",
  "when",
  "id",
  "",
  "back\\slash",
  'it\'s "quoted"',
);
const payload = fc.dictionary(keys, value, { maxKeys: 6 });

async function write(collection: string, payloads: object[]): Promise<void> {
  await admin.query(
    `insert into crm.records
     select gen_random_uuid(), gen_random_uuid(), $1, n::text, p, now() - n * interval '1 second', now(), now()
     from jsonb_array_elements($2::jsonb) with ordinality as e(p, n)`,
    [collection, JSON.stringify(payloads)],
  );
}

test("random payloads: the view runs, and typed columns drop no value the sample had", async () => {
  let run = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(payload, { minLength: 1, maxLength: 40 }), async (payloads) => {
      const collection = `random_${run++}`;
      await write(collection, payloads);
      const view = await views.generate(
        "c",
        { collection_id: collection, name: collection },
        { apply: true },
      );
      const rows = await admin.query(`select * from crm.${collection}`);
      assert.equal(rows.rowCount, payloads.length);
      for (const column of view.columns) {
        if (column.type === "text" || column.type === "jsonb") continue;
        const path = column.source_path.split(".");
        const present = payloads.filter((p) => {
          let v: unknown = p;
          for (const key of path)
            v = v && typeof v === "object" ? (v as Record<string, unknown>)[key] : undefined;
          return v !== undefined && v !== null && v !== "";
        }).length;
        const held = rows.rows.filter((r) => r[column.name] !== null).length;
        assert.equal(held, present, `${column.name} (${column.type}) from ${column.source_path}`);
      }
    }),
    { numRuns: 30 },
  );
});

test("the inference query counts what each guard admits, over the newest rows only", async () => {
  await write("counted", [
    { n: "1700000000000", when: "2024-01-02T03:04:05.000+0000", d: "2024-02-29", b: "true", x: { y: [1] } },
    { n: 1700000000, when: "2024-01-02", d: "", b: false, x: { y: "2024-02-30" } },
    { n: "1.5e3", when: null, d: "2023-02-29", b: "no", x: "scalar" },
  ]);
  const all = await countPayloads(admin, table, "counted", 10);
  assert.equal(all.sampled, 3);
  const byPath = Object.fromEntries(all.paths.map((p) => [p.path.join("."), p]));
  assert.deepEqual(
    { ...byPath.n, path: undefined },
    {
      path: undefined,
      present: 3,
      empty: 0,
      objects: 0,
      arrays: 0,
      booleans: 0,
      integers: 2,
      numbers: 3,
      dates: 0,
      timestamps: 0,
      epochMilliseconds: 1,
      epochSeconds: 1,
    },
  );
  assert.deepEqual([byPath.when!.present, byPath.when!.timestamps, byPath.when!.dates], [2, 2, 1]);
  assert.deepEqual([byPath.d!.present, byPath.d!.empty, byPath.d!.dates], [3, 1, 1]);
  assert.deepEqual(
    [byPath.b!.booleans, byPath.x!.objects, byPath["x.y"]!.arrays, byPath["x.y"]!.present],
    [2, 2, 1, 2],
  );
  // the newest row first: a sample of one is the first payload written (its upstream_updated_at is latest)
  const newest = await countPayloads(admin, table, "counted", 1);
  assert.equal(newest.sampled, 1);
  assert.equal(newest.paths.find((p) => p.path.join(".") === "n")!.epochMilliseconds, 1);
});

test("a payload of 1,596 keys makes a view of Postgres's most columns, 1,600, that runs", async () => {
  const payload = Object.fromEntries(
    Array.from({ length: 1596 }, (_, i) => [`key_${i}`, i % 2 ? String(i) : `v${i}`]),
  );
  await write("wide", [payload]);
  const view = await views.generate("c", { collection_id: "wide" }, { apply: true });
  assert.equal(view.columns.length, 1596);
  const row = await admin.query("select * from crm.records_wide");
  assert.equal(Object.keys(row.rows[0]).length, 1600);
  assert.equal(row.rows[0].key_1, "1");
});
