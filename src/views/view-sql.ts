/**
 * The `create or replace view` statement for inferred columns. Every cast stands behind the guard of
 * value-guards.ts (`case when value ~ guard then cast end`), so a value that does not fit is NULL and the
 * view runs on any data, including rows written after it was generated.
 *
 * Reading a key of a large payload unpacks the whole payload (it is stored compressed, out of line), so
 * the statement reads each payload once per row: a lateral subquery (`offset 0` keeps Postgres from
 * folding it back into the outer query) holds the payload unpacked and each first-level object the view
 * reads from, a second one each value's text, and the outer query guards and casts those texts.
 */

import { quoteLiteral } from "../targets/postgres/identifiers.js";
import { qualifiedName, quoteIdent, type TableName } from "../targets/postgres/index.js";
import { assignNames, recordColumns } from "./column-names.js";
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
} from "./value-guards.js";
import type { InferredColumn } from "./view-inference.js";

/** Where the view's expressions find a column's value. */
interface ValueSource {
  /** The value as jsonb, e.g. `objects."properties" -> 'email'`. */
  json: string;
  /** The value as text, as the value subquery names it: `value."properties_email"`. */
  text: string;
}

function matches(text: string, pattern: string): string {
  return `${text} ~ ${quoteLiteral(pattern)}`;
}

function guarded(condition: string, text: string, cast: string): string {
  return `case when ${condition} then (${text})::${cast} end`;
}

function timestampOf(column: InferredColumn, source: ValueSource, indent: string): string {
  const { text, json } = source;
  const branches = [
    `when ${matches(text, zonedTimestampPattern)} then (${text})::timestamptz`,
    `when ${matches(text, localTimestampPattern)} then (${text})::timestamp at time zone 'UTC'`,
  ];
  if (column.epochs) {
    branches.push(
      `when ${matches(text, epochMillisecondsPattern)} then timestamptz 'epoch' + (${text})::bigint * interval '1 millisecond'`,
      `when jsonb_typeof(${json}) = 'number' and ${matches(text, epochSecondsPattern)} then timestamptz 'epoch' + (${text})::bigint * interval '1 second'`,
    );
  }
  return `case\n${branches.map((b) => `${indent}  ${b}`).join("\n")}\n${indent}end`;
}

/** The expression of one column over its value, never failing whatever the row holds. */
export function columnExpression(column: InferredColumn, source: ValueSource, indent = "  "): string {
  const { text, json } = source;
  switch (column.type) {
    case "text":
      return text;
    case "jsonb":
      return json;
    case "bigint":
      return guarded(matches(text, integerPattern), text, "bigint");
    case "numeric":
      return guarded(
        `${matches(text, numberPattern)} and length(${text}) <= ${numberMaxLength}`,
        text,
        "numeric",
      );
    case "boolean":
      return guarded(matches(text, booleanPattern), text, "boolean");
    case "date":
      return guarded(matches(text, datePattern), text, "date");
    case "timestamptz":
      return timestampOf(column, source, indent);
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

/** The first-level objects the columns read from, each with its name in the objects subquery. */
function objectsOf(columns: readonly InferredColumn[]): Map<string, string> {
  const parents = [...new Set(columns.filter((c) => c.path.length === 2).map((c) => c.path[0]!))];
  const names = assignNames(parents.map((p) => [p]));
  return new Map(parents.map((p, i) => [p, names[i]!]));
}

export function createViewSql(definition: ViewDefinition): string {
  const objects = objectsOf(definition.columns);
  const jsonOf = (path: readonly string[]) =>
    path.length === 2
      ? `objects.${quoteIdent(objects.get(path[0]!)!)} -> ${quoteLiteral(path[1]!)}`
      : `whole.doc -> ${quoteLiteral(path[0]!)}`;
  const textSql = (path: readonly string[]) =>
    path.length === 2
      ? `objects.${quoteIdent(objects.get(path[0]!)!)} ->> ${quoteLiteral(path[1]!)}`
      : `whole.doc ->> ${quoteLiteral(path[0]!)}`;
  const typed = definition.columns.filter((c) => c.type !== "text" && c.type !== "jsonb");
  const selected = [
    ...recordColumns.map((c) => `  record.${c}`),
    ...definition.columns.map((c) => {
      const source = { json: jsonOf(c.path), text: `value.${quoteIdent(c.name)}` };
      const expression = c.type === "text" ? textSql(c.path) : columnExpression(c, source);
      return `  ${expression} as ${quoteIdent(c.name)}`;
    }),
  ];
  const lateral = (alias: string, lines: string[]) =>
    lines.length === 0
      ? ""
      : `\ncross join lateral (\n  select\n${lines.map((l) => `    ${l}`).join(",\n")}\n  offset 0\n) as ${alias}`;
  return (
    `create or replace view ${qualifiedName(definition.view)} as\nselect\n${selected.join(",\n")}\n` +
    `from ${qualifiedName(definition.table)} as record` +
    // `|| '{}'` makes an unpacked copy, read by every expression below (a non-object payload stays keyless)
    lateral("whole", ["record.payload || '{}'::jsonb as doc"]) +
    lateral(
      "objects",
      [...objects].map(([key, name]) => `whole.doc -> ${quoteLiteral(key)} as ${quoteIdent(name)}`),
    ) +
    lateral(
      "value",
      typed.map((c) => `${textSql(c.path)} as ${quoteIdent(c.name)}`),
    ) +
    `\nwhere record.collection_id = ${quoteLiteral(definition.collectionId)};`
  );
}
