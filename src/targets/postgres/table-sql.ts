/** The SQL a user runs to prepare a target: the recommended setup statements and the create-table statement. */
import { validationError } from "../../errors.js";
import { assertIdentifiers, qualifiedName, quoteIdent, quoteLiteral, type TableName } from "./identifiers.js";
import { contractColumns, primaryKeyColumn } from "./table-contract.js";

/** Printed in place of the password when the caller has none to show. */
export const passwordPlaceholder = "change-me";

/** The create-table statement of the contract, exactly as docs/consumers.md prints it. */
export function createTableSql(table: TableName): string {
  assertIdentifiers({ "table.schema": table.schema, "table.name": table.name });
  const lines = contractColumns.map((column) => {
    const key = column.name === primaryKeyColumn ? " primary key" : "";
    return `  ${column.name.padEnd(20)}${column.type.padEnd(12)}not null${key}`;
  });
  return `create table ${qualifiedName(table)} (\n${lines.join(",\n")}\n);`;
}

/** Quotes the body of the DO block that grants on the current database. */
const dollarTag = "$setup$";

export interface SetupOptions {
  schema: string;
  user: string;
  /** When absent, the grant names the database the statements are run in (current_database()). */
  database?: string;
  /** Printed as a placeholder to replace when absent. */
  password?: string;
}

/**
 * The recommended setup: a schema for Sequin's tables, a user, and the least privileges that user needs
 * (connect to the database, use the schema, read and write its present and future tables). One
 * statement per line. `alter default privileges` covers tables later created by the role that runs it.
 */
export function setupSql(options: SetupOptions): string {
  assertIdentifiers({
    schema: options.schema,
    user: options.user,
    ...(options.database === undefined ? {} : { database: options.database }),
  });
  if (options.database === undefined && options.user.includes(dollarTag)) {
    throw validationError({ user: [`must not contain ${dollarTag}`] });
  }
  if (options.password?.includes("\0")) {
    throw validationError({ password: ["password must not contain a NUL character"] });
  }
  const schema = quoteIdent(options.schema);
  const user = quoteIdent(options.user);
  const grantConnect =
    options.database === undefined
      ? `do ${dollarTag} begin execute format('grant connect, create on database %I to %I', current_database(), ${quoteLiteral(options.user)}); end ${dollarTag};`
      : `grant connect, create on database ${quoteIdent(options.database)} to ${user};`;
  const password = quoteLiteral(options.password ?? passwordPlaceholder);
  return [
    `create schema if not exists ${schema};`,
    `create user ${user} with encrypted password ${password};`,
    grantConnect,
    `grant usage, create on schema ${schema} to ${user};`,
    `grant all privileges on all tables in schema ${schema} to ${user};`,
    `alter default privileges in schema ${schema} grant all on tables to ${user};`,
  ].join("\n");
}
