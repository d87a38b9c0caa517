/** `sequin sql …`: the SQL a user runs in a target, printed to paste. */
import { Command } from "commander";
import { sqlSetupCommand } from "./sql-setup-command.js";
import { sqlTableCommand } from "./sql-table-command.js";

export function sqlCommand(): Command {
  return new Command("sql")
    .description(
      "print SQL to run in your database: the setup statements, a consumer's create-table statement",
    )
    .addCommand(sqlTableCommand())
    .addCommand(sqlSetupCommand());
}
