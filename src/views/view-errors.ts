/**
 * The target's refusals while reading a consumer's table or creating a view, said as what happened and
 * what to do. A target that cannot be reached is `target_unreachable`, as for every other target call.
 */
import { SequinError } from "../errors.js";
import { classifyTargetError, qualifiedName, quoteIdent, type TableName } from "../targets/postgres/index.js";

function sqlstateOf(error: unknown): string | undefined {
  return (error as { code?: string }).code;
}

export function unreachable(error: unknown): SequinError {
  return new SequinError(
    "target_unreachable",
    `cannot connect to the target: ${classifyTargetError(error).message}`,
    { cause: error },
  );
}

/** An error while counting the table's payloads. */
export function readRefused(error: unknown, table: TableName, user: string | undefined): SequinError {
  const classified = classifyTargetError(error);
  if (classified.kind === "unreachable") return unreachable(error);
  const name = qualifiedName(table);
  const sqlstate = sqlstateOf(error);
  const details = sqlstate ? { sqlstate } : undefined;
  switch (sqlstate) {
    case "42P01":
      return new SequinError(
        "conflict",
        `table ${name} does not exist in the target: create it with the consumer's create_table_sql and start the consumer, then generate its views`,
        { details, cause: error },
      );
    case "42501":
      return new SequinError(
        "conflict",
        `the target user ${quoteIdent(user ?? "?")} may not read table ${name}: grant select on ${name} to ${quoteIdent(user ?? "?")};`,
        { details, cause: error },
      );
    default:
      return new SequinError(
        "conflict",
        `the target refused reading table ${name}: ${classified.message}; verify the table (POST /v1/consumers/postgres/{id}/verify)`,
        { details, cause: error },
      );
  }
}

/** An error while running the view's statement. */
export function applyRefused(error: unknown, view: TableName, user: string | undefined): SequinError {
  const classified = classifyTargetError(error);
  if (classified.kind === "unreachable") return unreachable(error);
  const name = qualifiedName(view);
  const sqlstate = sqlstateOf(error);
  const who = quoteIdent(user ?? "?");
  switch (sqlstate) {
    case "42501": {
      const notOwner = /must be owner/.test(classified.message);
      const fix = notOwner
        ? `the view belongs to another user: run the statement as its owner, or choose another name`
        : `grant create on schema ${quoteIdent(view.schema)} to ${who}; or run the statement as a user who may`;
      return new SequinError(
        "conflict",
        `the target user ${who} may not create view ${name} (${classified.message}): ${fix}`,
        {
          details: { sqlstate, lacks: notOwner ? "ownership of the view" : "create on schema" },
          cause: error,
        },
      );
    }
    case "42809":
      return new SequinError(
        "conflict",
        `${name} exists in the target and is not a view: choose another name for the view`,
        { details: { sqlstate }, cause: error },
      );
    case "42P16": {
      const fixSql = `drop view ${name};`;
      return new SequinError(
        "conflict",
        `view ${name} exists with other columns, which Postgres does not change in place (${classified.message}): run ${fixSql} then apply again`,
        { details: { sqlstate, fix_sql: fixSql }, cause: error },
      );
    }
    default:
      return new SequinError("conflict", `the target refused creating view ${name}: ${classified.message}`, {
        details: sqlstate ? { sqlstate } : undefined,
        cause: error,
      });
  }
}
