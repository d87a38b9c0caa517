/** The `sequin` command and its subcommands, one module per command. */
import { Command } from "commander";
import { configCommand } from "./config-command.js";
import { consumersCommand } from "./consumers-command.js";
import { demoCommand } from "./demo/demo-command.js";
import { applyExitRule } from "./exit-codes.js";
import { sqlCommand } from "./sql-command.js";
import { startCommand } from "./start-command.js";
import { statusCommand } from "./status-command.js";
import { tokenCommand } from "./token-command.js";
import { packageVersion, versionCommand } from "./version-command.js";
import { viewsCommand } from "./views-command.js";

export function createProgram(): Command {
  const program = new Command("sequin")
    .description("Mirror API data into your own Postgres: durable record streams and Postgres consumers")
    .version(packageVersion(), "-V, --version", "print the version")
    .addHelpText(
      "after",
      "\nEnvironment: SEQUIN_DATABASE_URL, SEQUIN_DATA_DIR, SEQUIN_HOST, SEQUIN_PORT, SEQUIN_API_TOKEN, … (see README)\n" +
        "Exit status: 0 done; 1 the command's negative outcome (e.g. status: a consumer is unhealthy);\n" +
        "2 usage, configuration or connection error. `config plan`: 0 no changes, 2 changes, 1 error.",
    );
  program.addCommand(startCommand());
  program.addCommand(demoCommand());
  program.addCommand(sqlCommand());
  program.addCommand(statusCommand());
  program.addCommand(consumersCommand());
  program.addCommand(viewsCommand());
  program.addCommand(configCommand());
  program.addCommand(tokenCommand());
  program.addCommand(versionCommand());
  applyExitRule(program);
  return program;
}
