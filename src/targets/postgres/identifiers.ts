/**
 * Names of the user's schemas, tables, roles and databases. Any name Postgres accepts is allowed (mixed
 * case, spaces, quotes, unicode); every one reaches SQL through `quoteIdent`, the one quoting helper.
 */

import { type ValidationErrors, validationError } from "../../errors.js";

/** Postgres truncates identifiers past NAMEDATALEN - 1 bytes; we refuse them instead. */
export const MAX_IDENTIFIER_BYTES = 63;

export interface TableName {
  schema: string;
  name: string;
}

/** `"name"`, with inner double quotes doubled. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** `"schema"."table"`. */
export function qualifiedName(table: TableName): string {
  return `${quoteIdent(table.schema)}.${quoteIdent(table.name)}`;
}

/**
 * A string literal that reads back as `value` whatever `standard_conforming_strings` is: quotes doubled,
 * and, when there is a backslash, the `E'…'` form with backslashes doubled (as libpq's PQescapeLiteral).
 */
export function quoteLiteral(value: string): string {
  const quoted = value.replaceAll("'", "''");
  return value.includes("\\") ? `E'${quoted.replaceAll("\\", "\\\\")}'` : `'${quoted}'`;
}

/** Why `name` cannot be used as the identifier `field`, or undefined when it can. */
export function validateIdentifier(name: string, field: string): string | undefined {
  if (name.length === 0) return `${field} must not be empty`;
  if (name.includes("\0")) return `${field} must not contain a NUL character`;
  const bytes = Buffer.byteLength(name, "utf8");
  if (bytes > MAX_IDENTIFIER_BYTES) {
    return `${field} is ${bytes} bytes long in UTF-8; Postgres names are at most ${MAX_IDENTIFIER_BYTES} bytes`;
  }
  return undefined;
}

/** Throws a `validation_failed` SequinError naming every field whose identifier is unusable. */
export function assertIdentifiers(fields: Record<string, string>): void {
  const errors: ValidationErrors = {};
  for (const [field, name] of Object.entries(fields)) {
    const message = validateIdentifier(name, field);
    if (message) errors[field] = [message];
  }
  if (Object.keys(errors).length > 0) throw validationError(errors);
}
