/**
 * The `create or replace view` statement for inferred columns. Every cast stands behind the guard of
 * value-guards.ts (`case when value ~ guard then cast end`), so a value that does not fit is NULL and the
 * view runs on any data, including rows written after it was generated.
 */

import { quoteLiteral } from "../targets/postgres/identifiers.js";
import { qualifiedName, quoteIdent, type TableName } from "../targets/postgres/index.js";
import { recordColumns } from "./column-names.js";
import {
  booleanPattern,
  datePattern,
  epochMillisecondsPattern,
  epochSecondsPattern,
  integerPattern,
  localTimestampPattern,
  numberPattern,
  zonedTimestampPattern,
} from "./value-guards.js";
import type { InferredColumn } from "./view-inference.js";

/** `payload -> 'a' -> 'b'`: the value as jsonb. */
function jsonOf(path: readonly string[]): string {
  return ["payload", ...path.map(quoteLiteral)].join(" -> ");
}

/** `payload -> 'a' ->> 'b'`: the value as text (a JSON string unquoted; NULL for JSON null). */
function textOf(path: readonly string[]): string {
  const parents = ["payload", ...path.slice(0, -1).map(quoteLiteral)].join(" -> ");
  return `${parents} ->> ${quoteLiteral(path.at(-1)!)}`;
}

function guarded(text: string, pattern: string, cast: string): string {
  return `case when ${text} ~ ${quoteLiteral(pattern)} then (${text})::${cast} end`;
}

function timestampOf(column: InferredColumn, text: string, indent: string): string {
  const branches = [
    `when ${text} ~ ${quoteLiteral(zonedTimestampPattern)} then (${text})::timestamptz`,
    `when ${text} ~ ${quoteLiteral(localTimestampPattern)} then (${text})::timestamp at time zone 'UTC'`,
  ];
  if (column.epochs) {
    branches.push(
      `when ${text} ~ ${quoteLiteral(epochMillisecondsPattern)} then timestamptz 'epoch' + (${text})::bigint * interval '1 millisecond'`,
      `when jsonb_typeof(${jsonOf(column.path)}) = 'number' and ${text} ~ ${quoteLiteral(epochSecondsPattern)} then timestamptz 'epoch' + (${text})::bigint * interval '1 second'`,
    );
  }
  return `case\n${branches.map((b) => `${indent}  ${b}`).join("\n")}\n${indent}end`;
}

/** The expression of one column, never failing whatever the row holds. */
export function columnExpression(column: InferredColumn, indent = "  "): string {
  const text = textOf(column.path);
  switch (column.type) {
    case "text":
      return text;
    case "jsonb":
      return jsonOf(column.path);
    case "bigint":
      return guarded(text, integerPattern, "bigint");
    case "numeric":
      return guarded(text, numberPattern, "numeric");
    case "boolean":
      return guarded(text, booleanPattern, "boolean");
    case "date":
      return guarded(text, datePattern, "date");
    case "timestamptz":
      return timestampOf(column, text, indent);
    default: {
      const unknown: never = column.type;
      return unknown;
    }
  }
}

export interface ViewDefinition {
  view: TableName;
  /** The consumer's table the view reads. */
  table: TableName;
  collectionId: string;
  columns: readonly InferredColumn[];
}

export function createViewSql(definition: ViewDefinition): string {
  const lines = [
    ...recordColumns.map((c) => `  ${c}`),
    ...definition.columns.map((c) => `  ${columnExpression(c)} as ${quoteIdent(c.name)}`),
  ];
  return (
    `create or replace view ${qualifiedName(definition.view)} as\nselect\n${lines.join(",\n")}\n` +
    `from ${qualifiedName(definition.table)}\nwhere collection_id = ${quoteLiteral(definition.collectionId)};`
  );
}
