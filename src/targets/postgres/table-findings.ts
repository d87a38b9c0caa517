/** What verifying a target table reports: problems that stop a consumer and warnings that may. */
import { qualifiedName, type TableName } from "./identifiers.js";

export type TableProblemKind =
  | "schema_missing"
  | "table_missing"
  | "column_missing"
  | "column_type"
  | "column_nullable"
  | "primary_key"
  | "privilege"
  | "extra_column_not_null";

export type TableWarningKind = "constraint" | "foreign_key" | "trigger";

export interface TableFinding<Kind extends string = TableProblemKind | TableWarningKind> {
  kind: Kind;
  column?: string;
  expected?: string;
  found?: string;
  /** The statement that removes the difference. */
  fix_sql?: string;
  /** `table "crm"."records": <what is wrong> — run: <fix_sql>` */
  message: string;
}

export interface TableVerification {
  /** True when there is no problem; warnings do not count. */
  ok: boolean;
  problems: TableFinding<TableProblemKind>[];
  warnings: TableFinding<TableWarningKind>[];
}

export function finding<Kind extends string>(
  table: TableName,
  kind: Kind,
  what: string,
  fields: { column?: string; expected?: string; found?: string; fix_sql?: string } = {},
): TableFinding<Kind> {
  const run = fields.fix_sql ? ` — run: ${fields.fix_sql}` : "";
  return { kind, ...fields, message: `table ${qualifiedName(table)}: ${what}${run}` };
}
