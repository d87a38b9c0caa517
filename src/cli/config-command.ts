/** `sequin config …`: a declarative config file of syncs, targets and consumers (docs/config.md). */
import { Command } from "commander";
import { configApplyCommand } from "./config-apply-command.js";
import { configExportCommand } from "./config-export-command.js";
import { configPlanCommand } from "./config-plan-command.js";

export function configCommand(): Command {
  return new Command("config")
    .description("plan, apply and export a config file of syncs, targets and consumers")
    .addCommand(configPlanCommand())
    .addCommand(configApplyCommand())
    .addCommand(configExportCommand());
}
