/**
 * `sequin config plan -f FILE [--prune] [--update-secrets] [--json]`: the changes FILE would make to the
 * server at SEQUIN_URL, field by field, without making them. Exits 0 when there are none, 2 when there are
 * some, 1 on error (an invalid file, a server that cannot be asked).
 */
import { Command } from "commander";
import { planChanges } from "../config-file/plan.js";
import { planText } from "../config-file/plan-text.js";
import { type ConfigCommandOptions, loadFiles, reportFailures, withFileOptions } from "./config-options.js";
import { exitStatus, withUsageStatus } from "./exit-codes.js";
import { serverClient } from "./server-client.js";

export interface PlanCommandOptions extends ConfigCommandOptions {
  prune: boolean;
  updateSecrets: boolean;
}

export function withPlanOptions(command: Command): Command {
  return withFileOptions(command)
    .option("--prune", "also delete syncs, targets and consumers the file does not name", false)
    .option(
      "--update-secrets",
      "send every target's secrets and every sync source's credentials, e.g. after rotating a password or key (the API never returns secrets, so a plan cannot see them change)",
      false,
    );
}

/** plan's own exit rule: 2 means "there are changes", so any error is 1. */
const planChanged = 2;
const planError = 1;

async function runPlan(options: PlanCommandOptions): Promise<void> {
  await reportFailures(
    options.json,
    async () => {
      const loaded = await loadFiles(options);
      const server = serverClient();
      const plan = planChanges(loaded, await server.read((api) => api.state()), options);
      process.stdout.write(options.json ? `${JSON.stringify(plan, null, 2)}\n` : planText(plan));
      process.exitCode = plan.actions.length > 0 ? planChanged : exitStatus.ok;
    },
    planError,
  );
}

export function configPlanCommand(): Command {
  const plan = withPlanOptions(
    new Command("plan").description("show what applying the file would change on the server, field by field"),
  )
    .addHelpText(
      "after",
      `\nTalks to SEQUIN_URL (default: where SEQUIN_HOST and SEQUIN_PORT make \`sequin start\` listen,\n` +
        `http://127.0.0.1:7376) with SEQUIN_API_TOKEN; \${VAR} references are read from the environment.\n` +
        "Exit status: 0 no changes, 2 changes, 1 any error (usage, file, server). See docs/config.md.",
    )
    .action(runPlan);
  return withUsageStatus(plan, planError);
}
