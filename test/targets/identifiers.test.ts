import assert from "node:assert/strict";
import { test } from "node:test";
import { SequinError } from "../../src/errors.js";
import { assertIdentifiers, quoteLiteral } from "../../src/targets/postgres/identifiers.js";
import { qualifiedName, quoteIdent, validateIdentifier } from "../../src/targets/postgres/index.js";
import { createTargetDatabase } from "./target-helpers.js";

const weird = ["Mixed Case", 'we"ird', "spa ce", "ünïcødé", "日本語", "emoji 🎉", "select", "a.b", "'quote"];

test("quoteIdent doubles inner double quotes", () => {
  assert.equal(quoteIdent("records"), '"records"');
  assert.equal(quoteIdent('we"ird'), '"we""ird"');
  assert.equal(quoteIdent('""'), '""""""');
  assert.equal(qualifiedName({ schema: "Mixed Case", name: "spa ce" }), '"Mixed Case"."spa ce"');
});

test("validateIdentifier accepts any name Postgres accepts", () => {
  for (const name of weird) assert.equal(validateIdentifier(name, "table"), undefined, name);
  assert.equal(validateIdentifier("x".repeat(63), "table"), undefined);
  assert.equal(validateIdentifier("é".repeat(31), "table"), undefined); // 62 bytes
});

test("validateIdentifier refuses empty, NUL and names over 63 bytes", () => {
  assert.equal(validateIdentifier("", "schema"), "schema must not be empty");
  assert.equal(validateIdentifier("a\0b", "schema"), "schema must not contain a NUL character");
  assert.equal(
    validateIdentifier("x".repeat(64), "table.name"),
    "table.name is 64 bytes long in UTF-8; Postgres names are at most 63 bytes",
  );
  assert.match(validateIdentifier("日".repeat(22), "table.name") ?? "", /66 bytes/);
});

test("assertIdentifiers throws validation_failed naming each bad field", () => {
  assert.throws(
    () => assertIdentifiers({ schema: "ok", user: "", database: "d\0" }),
    (error: unknown) => {
      assert.ok(error instanceof SequinError);
      assert.equal(error.code, "validation_failed");
      assert.deepEqual(Object.keys(error.validationErrors ?? {}), ["user", "database"]);
      return true;
    },
  );
});

test("quoted identifiers and literals read back unchanged on real Postgres", async () => {
  const { admin } = await createTargetDatabase();
  for (const name of [...weird, "x".repeat(63)]) {
    await admin.query(`create schema ${quoteIdent(name)}`);
    await admin.query(`create table ${qualifiedName({ schema: name, name })} (id int)`);
    const { rows } = await admin.query(
      "select n.nspname, c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace where c.relname = $1",
      [name],
    );
    assert.deepEqual(rows, [{ nspname: name, relname: name }]);
  }
  const literals = ["plain", "it's", "back\\slash", "\\'mixed\\\\", "ünï 🎉", "new\nline"];
  for (const setting of ["on", "off"]) {
    await admin.query(`set standard_conforming_strings = ${setting}`);
    for (const value of literals) {
      const { rows } = await admin.query(`select ${quoteLiteral(value)}::text as v`);
      assert.equal(rows[0].v, value, `standard_conforming_strings=${setting}: ${value}`);
    }
  }
});
