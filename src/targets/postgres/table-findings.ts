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
  /** The statement that removes the difference, ending with `;`, ready to paste. */
  fix_sql?: string;
  /** The constraint, index or trigger the finding is about, as the database names it in its errors. */
  name?: string;
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
  fields: { column?: string; expected?: string; found?: string; fix_sql?: string; name?: string } = {},
): TableFinding<Kind> {
  const fix_sql = fields.fix_sql === undefined ? undefined : statement(fields.fix_sql);
  const run = fix_sql ? ` — run: ${fix_sql}` : "";
  return {
    kind,
    ...fields,
    ...(fix_sql === undefined ? {} : { fix_sql }),
    message: `table ${qualifiedName(table)}: ${what}${run}`,
  };
}

/** One statement as a user pastes it: ending with `;`. */
function statement(sql: string): string {
  return sql.trimEnd().endsWith(";") ? sql : `${sql};`;
}
