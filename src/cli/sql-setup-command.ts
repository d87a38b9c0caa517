/**
 * `sequin sql setup --schema S --user U [--database D] [--password P]`: prints the recommended setup
 * statements (schema, least-privilege user, grants), ready to paste into psql as a superuser.
 */
import { Command } from "commander";
import { passwordPlaceholder, setupSql } from "../targets/postgres/index.js";
import { reportErrors, UsageError } from "./exit-codes.js";
import { identifierOption } from "./identifier-option.js";

interface SetupCommandOptions {
  schema: string;
  user: string;
  database?: string;
  password?: string;
}

export function sqlSetupCommand(): Command {
  return new Command("setup")
    .description(
      "print the statements that prepare a target: a schema, a least-privilege user and its grants",
    )
    .requiredOption("--schema <schema>", "schema for the consumers' tables, e.g. crm")
    .requiredOption("--user <user>", "the user Sequin connects as, e.g. sequin")
    .option(
      "--database <database>",
      "the database the user may connect to (default: the one you run the statements in)",
    )
    .option(
      "--password <password>",
      `the user's password (default: the placeholder '${passwordPlaceholder}')`,
    )
    .addHelpText(
      "after",
      "\nRun the output as a superuser in the target database, then register the target with that user.",
    )
    .action((options: SetupCommandOptions) =>
      reportErrors(() => {
        if (options.password?.includes("\0"))
          throw new UsageError("--password must not contain a NUL character");
        const sql = setupSql({
          schema: identifierOption(options.schema, "--schema"),
          user: identifierOption(options.user, "--user"),
          ...(options.database === undefined
            ? {}
            : { database: identifierOption(options.database, "--database") }),
          ...(options.password === undefined ? {} : { password: options.password }),
        });
        process.stdout.write(`${sql}\n`);
      }),
    );
}
