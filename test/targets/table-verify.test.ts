import assert from "node:assert/strict";
import { test } from "node:test";
import type pg from "pg";
import {
  createTableSql,
  qualifiedName,
  quoteIdent,
  type TableName,
  type TableVerification,
  verifyTable,
} from "../../src/targets/postgres/index.js";
import { connect, createSeedUser, createTargetDatabase, type TargetDatabase } from "./target-helpers.js";

const db: Promise<TargetDatabase> = createTargetDatabase();
let tables = 0;

/** A table of its own in schema crm, created by the superuser, optionally altered by `tweak`. */
async function table(tweak = ""): Promise<TableName & { sql: string }> {
  const { admin } = await db;
  const name = { schema: "crm", name: `records_${++tables}` };
  await admin.query("create schema if not exists crm");
  await admin.query(createTableSql(name));
  const sql = qualifiedName(name);
  if (tweak) await admin.query(tweak.replaceAll("$T", sql).replaceAll("$PK", `${name.name}_pkey`));
  return { ...name, sql };
}

function summary(result: TableVerification) {
  return {
    ok: result.ok,
    problems: result.problems.map((p) => p.kind),
    warnings: result.warnings.map((w) => w.kind),
  };
}

/** Runs each fix as superuser and expects the table to verify clean. */
async function fixAll(client: pg.Client, t: TableName, result: TableVerification): Promise<void> {
  const { admin } = await db;
  for (const finding of [...result.problems, ...result.warnings]) await admin.query(finding.fix_sql!);
  assert.deepEqual(summary(await verifyTable(client, t)), { ok: true, problems: [], warnings: [] });
}

test("a table created by createTableSql verifies ok", async () => {
  const { admin } = await db;
  assert.deepEqual(await verifyTable(admin, await table()), { ok: true, problems: [], warnings: [] });
});

test("a missing schema or table is named with the statement that creates it", async () => {
  const { admin } = await db;
  const missing = { schema: "nowhere", name: "records" };
  const result = await verifyTable(admin, missing);
  assert.deepEqual(summary(result), {
    ok: false,
    problems: ["schema_missing", "table_missing"],
    warnings: [],
  });
  assert.equal(
    result.problems[0]!.message,
    'table "nowhere"."records": schema "nowhere" does not exist — run: create schema "nowhere";',
  );
  assert.equal(result.problems[1]!.fix_sql, createTableSql(missing));
  await fixAll(admin, missing, result);

  const view = { schema: "crm", name: "a_view" };
  await admin.query("create or replace view crm.a_view as select 1 as x");
  const viewResult = await verifyTable(admin, view);
  assert.deepEqual(summary(viewResult), { ok: false, problems: ["table_missing"], warnings: [] });
  assert.equal(viewResult.problems[0]!.message, 'table "crm"."a_view": is a view, expected a table');
});

test("column type, nullability and missing columns are named with their fix", async () => {
  const { admin } = await db;
  const t = await table(
    "alter table $T alter column payload type json, alter column upstream_id drop not null, drop column updated_at," +
      " alter column upstream_updated_at type timestamp",
  );
  const result = await verifyTable(admin, t);
  assert.deepEqual(summary(result), {
    ok: false,
    problems: ["column_nullable", "column_type", "column_type", "column_missing"],
    warnings: [],
  });
  const payload = result.problems.find((p) => p.column === "payload")!;
  assert.deepEqual(payload, {
    kind: "column_type",
    column: "payload",
    expected: "jsonb",
    found: "json",
    fix_sql: `alter table ${t.sql} alter column payload type jsonb using payload::jsonb;`,
    message: `table ${t.sql}: column payload is json, expected jsonb — run: alter table ${t.sql} alter column payload type jsonb using payload::jsonb;`,
  });
  const at = result.problems.find((p) => p.column === "upstream_updated_at")!;
  assert.deepEqual([at.expected, at.found], ["timestamptz", "timestamp without time zone"]);
  assert.equal(
    result.problems[0]!.message,
    `table ${t.sql}: column upstream_id allows null, expected not null — run: alter table ${t.sql} alter column upstream_id set not null;`,
  );
  await fixAll(admin, t, result);
});

test("a primary key that is missing or on other columns is named with its fix", async () => {
  const { admin } = await db;
  const none = await table("alter table $T drop constraint $PK");
  const noneResult = await verifyTable(admin, none);
  assert.deepEqual(
    noneResult.problems.map((p) => [p.kind, p.found, p.fix_sql]),
    [["primary_key", "none", `alter table ${none.sql} add primary key (sequin_id);`]],
  );
  await fixAll(admin, none, noneResult);

  const other = await table("alter table $T drop constraint $PK, add primary key (upstream_id, sync_id)");
  const otherResult = await verifyTable(admin, other);
  assert.deepEqual(
    otherResult.problems.map((p) => [p.kind, p.found, p.message]),
    [
      [
        "primary_key",
        "(upstream_id, sync_id)",
        `table ${other.sql}: primary key is on (upstream_id, sync_id), expected (sequin_id) — run: alter table ${other.sql} drop constraint "${other.name}_pkey", add primary key (sequin_id);`,
      ],
    ],
  );
  await fixAll(admin, other, otherResult);
});

test("an extra not-null column without default is a problem; with a default it is not", async () => {
  const { admin } = await db;
  const t = await table(
    'alter table $T add column "Extra Col" text not null, add column fine int not null default 0',
  );
  const result = await verifyTable(admin, t);
  assert.deepEqual(
    result.problems.map((p) => [p.kind, p.column, p.fix_sql]),
    [["extra_column_not_null", "Extra Col", `alter table ${t.sql} alter column "Extra Col" drop not null;`]],
  );
  await fixAll(admin, t, result);
});

test("constraints, foreign keys and triggers are warnings with a fix that drops them", async () => {
  const { admin } = await db;
  await admin.query("create table if not exists crm.parents (id text primary key)");
  await admin.query(
    "create or replace function crm.touch() returns trigger language plpgsql as $$ begin return new; end $$",
  );
  const t = await table(
    `alter table $T add constraint one_upstream unique (upstream_id),
       add constraint has_id check (payload ? 'id'),
       add constraint parent foreign key (upstream_id) references crm.parents (id);
     create unique index by_sync_upstream on $T (sync_id, upstream_id);
     create table crm.children (record uuid references $T (sequin_id));
     create trigger touch before insert on $T for each row execute function crm.touch();`,
  );
  const result = await verifyTable(admin, t);
  assert.deepEqual(summary(result), {
    ok: true,
    problems: [],
    warnings: ["foreign_key", "constraint", "constraint", "foreign_key", "constraint", "trigger"],
  });
  const byFix = new Map(result.warnings.map((w) => [w.fix_sql, w.message]));
  assert.deepEqual(
    [...byFix.keys()],
    [
      'alter table "crm"."children" drop constraint "children_record_fkey";',
      `alter table ${t.sql} drop constraint "has_id";`,
      `alter table ${t.sql} drop constraint "one_upstream";`,
      `alter table ${t.sql} drop constraint "parent";`,
      'drop index "crm"."by_sync_upstream";',
      `drop trigger "touch" on ${t.sql};`,
    ],
  );
  assert.match(
    byFix.get(`alter table ${t.sql} drop constraint "one_upstream";`)!,
    /UNIQUE \(upstream_id\)\): APIs do not enforce/,
  );
  assert.match(
    byFix.get('alter table "crm"."children" drop constraint "children_record_fkey";')!,
    /deleting a referenced record/,
  );
  assert.match(
    byFix.get(`alter table ${t.sql} drop constraint "parent";`)!,
    /can arrive before the record it references/,
  );
  assert.match(byFix.get(`drop trigger "touch" on ${t.sql};`)!, /the consumer retries that write until/);
  await fixAll(admin, t, result);
});

test("verify runs as the seed user and names the privileges it lacks", async () => {
  const target = await db;
  const user = await createSeedUser(target, "crm");
  const client = await connect(user);
  const own = { schema: "crm", name: "seed_owned" };
  await client.query(createTableSql(own));
  assert.deepEqual(await verifyTable(client, own), { ok: true, problems: [], warnings: [] });

  const t = await table();
  assert.deepEqual(summary(await verifyTable(client, t)), { ok: true, problems: [], warnings: [] });
  const grantee = quoteIdent(user.username);
  await target.admin.query(`revoke delete, update on ${t.sql} from ${grantee}`);
  await target.admin.query(`revoke usage on schema crm from ${grantee}`);
  await target.admin.query(`revoke temporary on database ${quoteIdent(user.database)} from public`);
  const result = await verifyTable(client, t);
  assert.deepEqual(
    result.problems.map((p) => [p.kind, p.found, p.fix_sql]),
    [
      ["privilege", "none", `grant temporary on database ${quoteIdent(user.database)} to ${grantee};`],
      ["privilege", "none", `grant usage on schema "crm" to ${grantee};`],
      [
        "privilege",
        "select, insert",
        `grant select, insert, update, delete on table ${t.sql} to ${grantee};`,
      ],
    ],
  );
  assert.equal(
    result.problems[2]!.message,
    `table ${t.sql}: user ${grantee} lacks update, delete on the table — run: ${result.problems[2]!.fix_sql}`,
  );
  await fixAll(client, t, result);
});

test("weird names verify end to end", async () => {
  const { admin } = await db;
  const weird = { schema: 'Mixed "Case"', name: "spa ce 🎉" };
  const missing = await verifyTable(admin, weird);
  assert.equal(missing.problems[0]!.fix_sql, 'create schema "Mixed ""Case""";');
  await fixAll(admin, weird, missing);
  await admin.query(`alter table ${qualifiedName(weird)} alter column payload type json`);
  const result = await verifyTable(admin, weird);
  assert.equal(
    result.problems[0]!.fix_sql,
    `alter table "Mixed ""Case"""."spa ce 🎉" alter column payload type jsonb using payload::jsonb;`,
  );
  await fixAll(admin, weird, result);
});
