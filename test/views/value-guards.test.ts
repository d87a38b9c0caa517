/**
 * Every guard admits only text its cast accepts, on real Postgres: a view built on them cannot fail on any
 * value. Tricky values by hand, then random strings made of the characters numbers and dates are made of.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import pg from "pg";
import {
  booleanPattern,
  datePattern,
  epochMillisecondsPattern,
  epochSecondsPattern,
  integerPattern,
  localTimestampPattern,
  numberMaxLength,
  numberPattern,
  zonedTimestampPattern,
} from "../../src/views/value-guards.js";
import { onCleanup } from "../helpers/cleanup.js";
import { createDatabase } from "../helpers/database.js";

const client = new pg.Client({ connectionString: await createDatabase("guards") });
await client.connect();
onCleanup(() => client.end());
// the view reads ISO text the same whatever the session's settings: run the casts under unusual ones
await client.query("set datestyle = 'SQL, DMY'; set timezone = 'Pacific/Chatham'");

const guards: [string, string, string, string?][] = [
  ["integer", integerPattern, "(t)::bigint"],
  ["number", numberPattern, "(t)::numeric", `length(t) <= ${numberMaxLength}`],
  ["boolean", booleanPattern, "(t)::boolean"],
  ["date", datePattern, "(t)::date"],
  ["zoned", zonedTimestampPattern, "(t)::timestamptz"],
  ["local", localTimestampPattern, "(t)::timestamp at time zone 'UTC'"],
  ["epoch ms", epochMillisecondsPattern, "timestamptz 'epoch' + (t)::bigint * interval '1 millisecond'"],
  ["epoch s", epochSecondsPattern, "timestamptz 'epoch' + (t)::bigint * interval '1 second'"],
];

/** The values each guard admits; the query fails if any admitted value does not cast. */
async function admitted(values: string[]): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const [name, pattern, cast, also = "true"] of guards) {
    const guard = `t ~ $2 and ${also}`;
    const result = await client.query<{ t: string }>(
      `select t from unnest($1::text[]) t where (case when ${guard} then ${cast} end) is not null`,
      [values, pattern],
    );
    out[name] = result.rows.map((r) => r.t);
  }
  return out;
}

test("tricky values: each guard admits exactly what its type means", async () => {
  const values = [
    "0",
    "-0",
    "42",
    "-17",
    "007",
    "02134",
    "999999999999999999",
    "9999999999999999999",
    "+5",
    " 5",
    "5 ",
    "1.5",
    "-0.25",
    ".5",
    "5.",
    "1e5",
    "1.5E+3",
    "2e-7",
    "1e999",
    "1e1000",
    "NaN",
    "Infinity",
    "-Infinity",
    "1_000",
    "0x1F",
    "",
    "true",
    "false",
    "True",
    "t",
    "yes",
    "2024-01-02",
    "2024-02-29",
    "2023-02-29",
    "1900-02-29",
    "2000-02-29",
    "2024-02-30",
    "2024-04-31",
    "2024-13-01",
    "2024-00-10",
    "0000-01-01",
    "0999-01-01",
    "10000-01-01",
    "2024-1-2",
    "02/01/2024",
    "2024-01-02T03:04:05Z",
    "2024-01-02T03:04:05.123456789Z",
    "2024-01-02 03:04:05+01",
    "2024-01-02T03:04:05.000+0000",
    "2024-01-02T03:04:05+05:30",
    "2024-01-02T03:04:05-15:59",
    "2024-01-02T03:04:05+16:00",
    "2024-01-02T24:00:00Z",
    "2024-01-02T23:60:00Z",
    "2024-01-02T23:59:60Z",
    "2024-01-02T03:04",
    "2024-01-02T03:04:05",
    "9999-12-31T23:59:59.9999999",
    "9999-12-31T23:59:59.9999999+00",
    "2024-01-02T03:04:05 Z",
    "2024-01-02t03:04:05z",
    "1700000000000",
    "1700000000",
    "0700000000000",
    "99999999999999",
    "999999999",
    `${"9".repeat(250)}e999`,
    `1${"0".repeat(300)}`,
  ];
  const got = await admitted(values);
  assert.deepEqual(got.integer, [
    "0",
    "-0",
    "42",
    "-17",
    "999999999999999999",
    "1700000000000",
    "1700000000",
    "99999999999999",
    "999999999",
  ]);
  assert.deepEqual(got.number, [
    "0",
    "-0",
    "42",
    "-17",
    "999999999999999999",
    "9999999999999999999",
    "1.5",
    "-0.25",
    "1e5",
    "1.5E+3",
    "2e-7",
    "1e999",
    "1700000000000",
    "1700000000",
    "99999999999999",
    "999999999",
    `${"9".repeat(250)}e999`,
  ]);
  assert.deepEqual(got.boolean, ["true", "false"]);
  assert.deepEqual(got.date, ["2024-01-02", "2024-02-29", "2000-02-29"]);
  assert.deepEqual(got.zoned, [
    "2024-01-02T03:04:05Z",
    "2024-01-02T03:04:05.123456789Z",
    "2024-01-02 03:04:05+01",
    "2024-01-02T03:04:05.000+0000",
    "2024-01-02T03:04:05+05:30",
    "2024-01-02T03:04:05-15:59",
    "9999-12-31T23:59:59.9999999+00",
  ]);
  assert.deepEqual(got.local, [
    "2024-01-02",
    "2024-02-29",
    "2000-02-29",
    "2024-01-02T03:04",
    "2024-01-02T03:04:05",
    "9999-12-31T23:59:59.9999999",
  ]);
  assert.deepEqual(got["epoch ms"], ["1700000000000"]);
  assert.deepEqual(got["epoch s"], ["1700000000"]);
});

test("times read the same in any session: zone-less ones as UTC, epochs exactly", async () => {
  const row = await client.query<{ zoned: string; local: string; ms: string; s: string }>(
    `select to_char(('2024-01-02T03:04:05.000+0000')::timestamptz at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS.MS') as zoned,
       to_char(('2024-01-02T03:04:05')::timestamp at time zone 'UTC' at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS') as local,
       to_char((timestamptz 'epoch' + ('1700000000123')::bigint * interval '1 millisecond') at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS.MS') as ms,
       to_char((timestamptz 'epoch' + ('1700000000')::bigint * interval '1 second') at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS') as s`,
  );
  assert.deepEqual(row.rows[0], {
    zoned: "2024-01-02 03:04:05.000",
    local: "2024-01-02 03:04:05",
    ms: "2023-11-14 22:13:20.123",
    s: "2023-11-14 22:13:20",
  });
});

test("random strings of digits and date characters: no guard admits a value its cast refuses", async () => {
  const chars = fc.constantFrom(..."0123456789-:.TZeE+ 12-0229".split(""));
  const shaped = fc.oneof(
    fc.string({ unit: chars, maxLength: 30 }),
    fc
      .tuple(
        fc.integer({ min: 0, max: 10999 }),
        fc.integer({ min: 0, max: 13 }),
        fc.integer({ min: 0, max: 32 }),
        fc.integer({ min: 0, max: 25 }),
        fc.integer({ min: 0, max: 61 }),
        fc.constantFrom("", "Z", "+00", "+0530", "-16:00", "+15:59", ".999999999"),
      )
      .map(([y, mo, d, h, mi, z]) => {
        const two = (n: number) => String(n).padStart(2, "0");
        return `${String(y).padStart(4, "0")}-${two(mo)}-${two(d)}T${two(h)}:${two(mi)}:${two(mi)}${z}`;
      }),
  );
  await fc.assert(
    fc.asyncProperty(fc.array(shaped, { minLength: 200, maxLength: 200 }), async (values) => {
      await admitted(values);
    }),
    { numRuns: 25 },
  );
});
