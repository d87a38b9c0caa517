/**
 * Compares a live target table with the contract (docs/consumers.md, the table contract) as the connecting user sees it, naming
 * each difference and the statement that fixes it.
 */
import type pg from "pg";
import { assertIdentifiers, qualifiedName, quoteIdent, type TableName } from "./identifiers.js";
import {
  type ColumnFacts,
  type ConstraintFacts,
  columnFacts,
  constraintFacts,
  relationFacts,
  schemaFacts,
  sessionFacts,
} from "./introspection-queries.js";
import { contractColumns, primaryKeyColumn } from "./table-contract.js";
import {
  finding,
  type TableFinding,
  type TableProblemKind,
  type TableVerification,
} from "./table-findings.js";
import { createTableSql } from "./table-sql.js";
import { tableWarnings } from "./table-warnings.js";

type Problem = TableFinding<TableProblemKind>;

const relationKinds: Record<string, string> = {
  v: "a view",
  m: "a materialized view",
  f: "a foreign table",
  S: "a sequence",
  i: "an index",
  I: "an index",
  c: "a composite type",
  t: "a TOAST table",
};

function columnProblems(table: TableName, columns: ColumnFacts[]): Problem[] {
  const target = qualifiedName(table);
  const problems: Problem[] = [];
  const byName = new Map(columns.map((c) => [c.name, c]));
  for (const want of contractColumns) {
    const column = want.name;
    const have = byName.get(column);
    if (!have) {
      const fix_sql = `alter table ${target} add column ${column} ${want.type} not null`;
      problems.push(finding(table, "column_missing", `column ${column} is missing`, { column, fix_sql }));
      continue;
    }
    if (have.type !== want.formatType) {
      const fix_sql = `alter table ${target} alter column ${column} type ${want.type} using ${column}::${want.type}`;
      const what = `column ${column} is ${have.type}, expected ${want.type}`;
      problems.push(
        finding(table, "column_type", what, { column, expected: want.type, found: have.type, fix_sql }),
      );
    }
    if (!have.notNull) {
      const fix_sql = `alter table ${target} alter column ${column} set not null`;
      const what = `column ${column} allows null, expected not null`;
      problems.push(
        finding(table, "column_nullable", what, { column, expected: "not null", found: "null", fix_sql }),
      );
    }
  }
  const contract = new Set(contractColumns.map((c) => c.name));
  for (const extra of columns) {
    if (contract.has(extra.name) || !extra.notNull || extra.filledByServer) continue;
    const column = quoteIdent(extra.name);
    const fix_sql = `alter table ${target} alter column ${column} drop not null`;
    const what = `column ${column} is not null and has no default, so every insert by the consumer fails`;
    problems.push(finding(table, "extra_column_not_null", what, { column: extra.name, fix_sql }));
  }
  return problems;
}

function primaryKeyProblems(table: TableName, constraints: ConstraintFacts[]): Problem[] {
  const target = qualifiedName(table);
  const expected = `(${primaryKeyColumn})`;
  const pkey = constraints.find((c) => c.type === "p");
  if (!pkey) {
    const fix_sql = `alter table ${target} add primary key (${primaryKeyColumn})`;
    const what = `has no primary key, expected primary key ${expected}`;
    return [finding(table, "primary_key", what, { expected, found: "none", fix_sql })];
  }
  if (pkey.columns.length === 1 && pkey.columns[0] === primaryKeyColumn) return [];
  const found = `(${pkey.columns.join(", ")})`;
  const fix_sql = `alter table ${target} drop constraint ${quoteIdent(pkey.name)}, add primary key (${primaryKeyColumn})`;
  const what = `primary key is on ${found}, expected ${expected}`;
  return [finding(table, "primary_key", what, { expected, found, fix_sql })];
}

export async function verifyTable(client: pg.ClientBase, table: TableName): Promise<TableVerification> {
  assertIdentifiers({ "table.schema": table.schema, "table.name": table.name });
  const target = qualifiedName(table);
  const schemaName = quoteIdent(table.schema);
  const problems: Problem[] = [];
  const done = (warnings: TableVerification["warnings"] = []) => ({
    ok: problems.length === 0,
    problems,
    warnings,
  });

  const session = await sessionFacts(client);
  const user = quoteIdent(session.user);
  if (!session.canCreateTemp) {
    const database = quoteIdent(session.database);
    const fix_sql = `grant temporary on database ${database} to ${user}`;
    const what = `user ${user} cannot create temporary tables in database ${database}, where each batch is staged`;
    problems.push(finding(table, "privilege", what, { expected: "temporary", found: "none", fix_sql }));
  }
  const schema = await schemaFacts(client, table.schema);
  if (!schema) {
    const fix_sql = `create schema ${schemaName}`;
    problems.push(finding(table, "schema_missing", `schema ${schemaName} does not exist`, { fix_sql }));
    problems.push(
      finding(table, "table_missing", "table does not exist", { fix_sql: createTableSql(table) }),
    );
    return done();
  }
  if (!schema.canUse) {
    const fix_sql = `grant usage on schema ${schemaName} to ${user}`;
    const what = `user ${user} lacks usage on schema ${schemaName}`;
    problems.push(finding(table, "privilege", what, { expected: "usage", found: "none", fix_sql }));
  }
  const relation = await relationFacts(client, schema.oid, table.name);
  if (!relation) {
    problems.push(
      finding(table, "table_missing", "table does not exist", { fix_sql: createTableSql(table) }),
    );
    return done();
  }
  if (relation.kind !== "r" && relation.kind !== "p") {
    const what = `is ${relationKinds[relation.kind] ?? `a relation of kind ${relation.kind}`}, expected a table`;
    problems.push(finding(table, "table_missing", what));
    return done();
  }
  const granted = Object.entries(relation.privileges).filter(([, has]) => has);
  if (granted.length < 4) {
    const missing = Object.entries(relation.privileges).filter(([, has]) => !has);
    const fix_sql = `grant select, insert, update, delete on table ${target} to ${user}`;
    const what = `user ${user} lacks ${missing.map(([p]) => p).join(", ")} on the table`;
    const found = granted.map(([p]) => p).join(", ") || "none";
    problems.push(
      finding(table, "privilege", what, { expected: "select, insert, update, delete", found, fix_sql }),
    );
  }
  problems.push(...columnProblems(table, await columnFacts(client, relation.oid)));
  const constraints = await constraintFacts(client, relation.oid);
  problems.push(...primaryKeyProblems(table, constraints));
  return done(await tableWarnings(client, table, relation.oid, constraints));
}
