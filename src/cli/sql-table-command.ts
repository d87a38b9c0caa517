/** `sequin sql table --schema S --table T`: prints the create-table statement of the table contract. */
import { Command } from "commander";
import { createTableSql } from "../targets/postgres/index.js";
import { reportErrors } from "./exit-codes.js";
import { identifierOption } from "./identifier-option.js";

export function sqlTableCommand(): Command {
  return new Command("table")
    .description("print the create-table statement of a consumer's table (the table contract)")
    .requiredOption("--schema <schema>", "schema of the table, e.g. crm")
    .requiredOption("--table <table>", "name of the table, e.g. records")
    .addHelpText("after", "\nNames are used as given (quoted), so mixed case and spaces are kept.")
    .action((options: { schema: string; table: string }) =>
      reportErrors(() => {
        const table = {
          schema: identifierOption(options.schema, "--schema"),
          name: identifierOption(options.table, "--table"),
        };
        process.stdout.write(`${createTableSql(table)}\n`);
      }),
    );
}
