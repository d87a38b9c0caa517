/** A command option naming a Postgres schema, table, user or database, checked by the target's rule. */
import { validateIdentifier } from "../targets/postgres/index.js";
import { UsageError } from "./exit-codes.js";

export function identifierOption(value: string, option: string): string {
  const problem = validateIdentifier(value, option);
  if (problem) throw new UsageError(problem);
  return value;
}
