/**
 * `sequin config apply -f FILE [--prune] [--update-secrets] [--json]`: makes the plan's changes, in a safe
 * order. Idempotent: a second apply finds nothing to change. Exits 0 when the server matches the file,
 * 1 when the server refused a change (the changes made before it stay), 2 on usage, file or connection
 * errors (nothing changed).
 */
import { Command } from "commander";
import { applyPlan } from "../config-file/apply.js";
import { planChanges } from "../config-file/plan.js";
import { planText } from "../config-file/plan-text.js";
import { loadFiles, reportFailures } from "./config-options.js";
import { type PlanCommandOptions, withPlanOptions } from "./config-plan-command.js";
import { serverClient } from "./server-client.js";

async function runApply(options: PlanCommandOptions): Promise<void> {
  await reportFailures(options.json, async () => {
    const loaded = await loadFiles(options);
    const server = serverClient();
    const { api } = server;
    const state = await server.read((a) => a.state());
    const plan = planChanges(loaded, state, options);
    if (!options.json) process.stdout.write(planText(plan));
    await applyPlan(api, loaded, state, plan);
    const { create, update, delete: remove } = plan.summary;
    process.stdout.write(
      options.json
        ? `${JSON.stringify({ ...plan, applied: true }, null, 2)}\n`
        : `Apply complete: ${create} created, ${update} updated, ${remove} deleted.\n`,
    );
  });
}

export function configApplyCommand(): Command {
  return withPlanOptions(
    new Command("apply").description(
      "make the server match the file (idempotent: a second apply changes nothing)",
    ),
  )
    .addHelpText(
      "after",
      "\nOrder: syncs → targets → consumers (create, change, start or pause), then deletions (--prune only)\n" +
        "consumers → targets → syncs. See docs/config.md.\n" +
        "Exit status: 0 applied; 1 the server refused a change (the changes before it stay);\n" +
        "2 usage error, invalid file, no or refused token, server unreachable (nothing changed).",
    )
    .action(runApply);
}
