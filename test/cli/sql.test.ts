import assert from "node:assert/strict";
import { test } from "node:test";
import pg from "pg";
import { createTableSql, setupSql } from "../../src/targets/postgres/index.js";
import { createDatabase } from "../helpers/database.js";
import { runSequin } from "./sequin-process.js";

test("sql table prints the create statement exactly, names quoted as given", async () => {
  const plain = await runSequin(["sql", "table", "--schema", "crm", "--table", "records"]);
  assert.equal(plain.code, 0, plain.stderr);
  assert.equal(plain.stdout, `${createTableSql({ schema: "crm", name: "records" })}\n`);
  assert.equal(plain.stderr, "");

  const weird = await runSequin(["sql", "table", "--schema", "Mixed Case", "--table", 'we"ird']);
  assert.equal(weird.code, 0, weird.stderr);
  assert.equal(weird.stdout, `${createTableSql({ schema: "Mixed Case", name: 'we"ird' })}\n`);
  assert.match(weird.stdout, /^create table "Mixed Case"\."we""ird" \(/);
});

test("sql setup prints the recommended setup statements, with the password placeholder unless given", async () => {
  const setup = await runSequin(["sql", "setup", "--schema", "crm", "--user", "sequin", "--database", "app"]);
  assert.equal(setup.code, 0, setup.stderr);
  assert.equal(setup.stdout, `${setupSql({ schema: "crm", user: "sequin", database: "app" })}\n`);
  assert.match(setup.stdout, /^create schema if not exists "crm";$/m);
  assert.match(setup.stdout, /'change-me'/);

  const withPassword = await runSequin([
    "sql",
    "setup",
    "--schema",
    "crm",
    "--user",
    "sequin",
    "--password",
    "it's",
  ]);
  assert.equal(withPassword.code, 0, withPassword.stderr);
  assert.equal(withPassword.stdout, `${setupSql({ schema: "crm", user: "sequin", password: "it's" })}\n`);
  assert.match(withPassword.stdout, /password 'it''s';/);
  assert.match(withPassword.stdout, /current_database\(\)/);
});

test("the printed statements run as they are", async () => {
  const url = await createDatabase("sqlcli");
  const database = new URL(url).pathname.slice(1);
  const user = `sequin_cli_${database.slice(-8)}`;
  // no --database: the grant names the database the statements run in
  const setup = await runSequin(["sql", "setup", "--schema", "cli", "--user", user]);
  const table = await runSequin(["sql", "table", "--schema", "cli", "--table", "Records"]);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(setup.stdout);
    await client.query(table.stdout);
    const { rows } = await client.query(
      "select count(*)::int as n from information_schema.columns where table_schema = 'cli' and table_name = 'Records'",
    );
    assert.equal(rows[0].n, 8);
    const { rows: grants } = await client.query(
      "select has_database_privilege($1, current_database(), 'connect, create') as ok",
      [user],
    );
    assert.equal(grants[0].ok, true);
  } finally {
    await client.end();
  }
});

test("invalid names → exit 2 with the rule, nothing on stdout", async () => {
  const cases: { args: string[]; rule: RegExp }[] = [
    { args: ["sql", "table", "--schema", "", "--table", "t"], rule: /--schema must not be empty/ },
    {
      args: ["sql", "table", "--schema", "s", "--table", "x".repeat(64)],
      rule: /--table is 64 bytes long in UTF-8; Postgres names are at most 63 bytes/,
    },
    { args: ["sql", "setup", "--schema", "s", "--user", ""], rule: /--user must not be empty/ },
    {
      args: ["sql", "setup", "--schema", "s", "--user", "u", "--database", "é".repeat(40)],
      rule: /--database is 80 bytes long/,
    },
  ];
  for (const { args, rule } of cases) {
    const result = await runSequin(args);
    assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
    assert.match(result.stderr, rule);
    assert.equal(result.stdout, "");
  }
});

test("a missing option is a usage error; --help documents both commands", async () => {
  const missing = await runSequin(["sql", "setup", "--schema", "crm"]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /--user/);

  const help = await runSequin(["sql", "--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /table/);
  assert.match(help.stdout, /setup/);
  const setupHelp = await runSequin(["sql", "setup", "--help"]);
  assert.match(setupHelp.stdout, /--database <database>/);
});
