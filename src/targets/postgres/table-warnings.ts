/**
 * User additions that the README's "Limits" warn about: they do not stop a consumer from starting,
 * but they can refuse a write later: the consumer then retries that write, and writes nothing after it,
 * until the table is fixed.
 */
import type pg from "pg";
import { qualifiedName, quoteIdent, type TableName } from "./identifiers.js";
import { type ConstraintFacts, standaloneUniqueIndexes, userTriggers } from "./introspection-queries.js";
import { finding, type TableFinding, type TableWarningKind } from "./table-findings.js";

const constraintRisk =
  "APIs do not enforce constraints the way Postgres does, and records arrive out of order across records, " +
  "so it can refuse a write; the consumer then retries that write until you drop it, and writes nothing after it";
const foreignKeyRisk =
  "a record can arrive before the record it references, so it can refuse a write; the consumer then retries that write until you drop it, and writes nothing after it";
const referencedRisk =
  "deleting a referenced record is refused (deletes do not cascade); the consumer then retries that delete until you drop it, and writes nothing after it";
const triggerRisk =
  "it runs on every write the consumer makes and slows every batch; when it raises an error, the consumer retries that write until the trigger lets it through, and writes nothing after it";

export async function tableWarnings(
  client: pg.ClientBase,
  table: TableName,
  tableOid: number,
  constraints: ConstraintFacts[],
): Promise<TableFinding<TableWarningKind>[]> {
  const target = qualifiedName(table);
  const warnings: TableFinding<TableWarningKind>[] = [];
  for (const con of constraints) {
    const name = con.name;
    const on = qualifiedName({ schema: con.tableSchema, name: con.tableName });
    const fix_sql = `alter table ${on} drop constraint ${quoteIdent(con.name)}`;
    const label = `constraint ${quoteIdent(con.name)} (${con.definition})`;
    if (con.type === "f" && on !== target) {
      const what = `${label} on ${on} references it: ${referencedRisk}`;
      warnings.push(finding(table, "foreign_key", what, { fix_sql, name }));
    } else if (con.type === "f") {
      warnings.push(finding(table, "foreign_key", `${label}: ${foreignKeyRisk}`, { fix_sql, name }));
    } else if (con.type === "u" || con.type === "c" || con.type === "x") {
      warnings.push(finding(table, "constraint", `${label}: ${constraintRisk}`, { fix_sql, name }));
    }
    // p is checked as a problem; t (constraint triggers) is reported with the triggers.
  }
  for (const index of await standaloneUniqueIndexes(client, tableOid)) {
    const name = index.name;
    const fix_sql = `drop index ${qualifiedName({ schema: table.schema, name: index.name })}`;
    const what = `unique index ${quoteIdent(index.name)} (${index.definition}): ${constraintRisk}`;
    warnings.push(finding(table, "constraint", what, { fix_sql, name }));
  }
  for (const trigger of await userTriggers(client, tableOid)) {
    const name = trigger.name;
    const fix_sql = `drop trigger ${quoteIdent(trigger.name)} on ${target}`;
    const what = `trigger ${quoteIdent(trigger.name)}: ${triggerRisk}`;
    warnings.push(finding(table, "trigger", what, { fix_sql, name }));
  }
  return warnings;
}
