import assert from "node:assert/strict";
import { test } from "node:test";
import { SequinError } from "../../src/errors.js";
import { createTableSql, qualifiedName, setupSql } from "../../src/targets/postgres/index.js";
import { connect, createSeedUser, createTargetDatabase, uniqueName } from "./target-helpers.js";

test("createTableSql prints the contract exactly", () => {
  assert.equal(
    createTableSql({ schema: "crm", name: "records" }),
    `create table "crm"."records" (
  sequin_id           uuid        not null primary key,
  sync_id             uuid        not null,
  collection_id       text        not null,
  upstream_id         text        not null,
  payload             jsonb       not null,
  upstream_updated_at timestamptz not null,
  inserted_at         timestamptz not null,
  updated_at          timestamptz not null
);`,
  );
  assert.match(createTableSql({ schema: 'we"ird', name: "spa ce" }), /^create table "we""ird"."spa ce" \(\n/);
});

test("createTableSql and setupSql refuse unusable names", () => {
  const refused = (fn: () => unknown, field: string) =>
    assert.throws(
      fn,
      (e: unknown) =>
        e instanceof SequinError && e.code === "validation_failed" && field in (e.validationErrors ?? {}),
    );
  refused(() => createTableSql({ schema: "", name: "t" }), "table.schema");
  refused(() => createTableSql({ schema: "s", name: "x".repeat(64) }), "table.name");
  refused(() => setupSql({ schema: "s", user: "u\0", database: "d" }), "user");
  refused(() => setupSql({ schema: "s", user: "u", database: "d", password: "a\0" }), "password");
});

test("setupSql prints the seed's statements, with a placeholder password", () => {
  assert.equal(
    setupSql({ schema: "crm", user: "sequin", database: "app" }),
    `create schema if not exists "crm";
create user "sequin" with encrypted password 'change-me';
grant connect, create on database "app" to "sequin";
grant usage, create on schema "crm" to "sequin";
grant all privileges on all tables in schema "crm" to "sequin";
alter default privileges in schema "crm" grant all on tables to "sequin";`,
  );
});

test("setupSql quotes identifiers and escapes the password literal", () => {
  const sql = setupSql({ schema: "Mixed Case", user: 'we"ird', database: "spa ce", password: "it's\\x" });
  assert.equal(
    sql.split("\n").slice(0, 3).join("\n"),
    `create schema if not exists "Mixed Case";
create user "we""ird" with encrypted password E'it''s\\\\x';
grant connect, create on database "spa ce" to "we""ird";`,
  );
});

async function provesLeastPrivilegeUserIsEnough(schema: string, table: string): Promise<void> {
  const db = await createTargetDatabase();
  const user = await createSeedUser(db, schema, uniqueName(`${table} we"ird`));
  const client = await connect(user);
  const target = qualifiedName({ schema, name: table });
  await client.query(createTableSql({ schema, name: table }));
  const id = "8f0f7d4e-3c1a-4d1b-9a51-6a5d9e3f0a01";
  await client.query(
    `insert into ${target} values ($1, $1, 'contact', 'u1', '{"a":1}', now(), now(), now())`,
    [id],
  );
  await client.query(`update ${target} set payload = '{"a":2}' where sequin_id = $1`, [id]);
  const { rows } = await client.query(`select payload from ${target}`);
  assert.deepEqual(rows, [{ payload: { a: 2 } }]);
  await client.query(`delete from ${target} where sequin_id = $1`, [id]);
  assert.equal((await client.query(`select count(*)::int as n from ${target}`)).rows[0].n, 0);

  // A table the superuser adds to the schema later is covered by the default privileges...
  const later = qualifiedName({ schema, name: `${table} later` });
  await db.admin.query(createTableSql({ schema, name: `${table} later` }));
  await client.query(`select * from ${later}`);
  // ...while tables outside the schema stay out of reach.
  await db.admin.query("create table public.secret (x int)");
  await assert.rejects(client.query("select * from public.secret"), { code: "42501" });
}

test("the seed user created by setupSql can create, write and read its table", async () => {
  await provesLeastPrivilegeUserIsEnough("sequin", "records");
});

test("setup and table statements work with weird names end to end", async () => {
  await provesLeastPrivilegeUserIsEnough("Mixed Case", 'we"ird spa ce');
});

test("setup without a database grants on the database it runs in, and refuses a user name holding the DO block's quote", () => {
  const sql = setupSql({ schema: "crm", user: "it's", password: "x" });
  assert.match(
    sql,
    /^do \$setup\$ begin execute format\('grant connect, create on database %I to %I', current_database\(\), 'it''s'\); end \$setup\$;$/m,
  );
  assert.throws(() => setupSql({ schema: "crm", user: "a$setup$b" }), /must not contain \$setup\$/);
});
