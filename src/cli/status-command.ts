/**
 * `sequin status [--json]`: the consumers of the server at SEQUIN_URL (or SEQUIN_HOST/SEQUIN_PORT) with
 * their state, health and lag.
 * Exits 0 when none is unhealthy, 1 when any is, 2 when the server cannot be asked.
 */
import { Command } from "commander";
import { exitStatus, reportErrors } from "./exit-codes.js";
import { serverClient } from "./server-client.js";
import { type ConsumerStatus, isUnhealthy, statusTable } from "./status-table.js";

async function runStatus(options: { json: boolean }): Promise<void> {
  const server = serverClient();
  const consumers = await server.read((api) =>
    api.request<{ data: ConsumerStatus[] }>("GET", "/v1/consumers/postgres"),
  );
  process.stdout.write(
    options.json ? `${JSON.stringify(consumers, null, 2)}\n` : statusTable(consumers.data),
  );
  process.exitCode = consumers.data.some(isUnhealthy) ? exitStatus.negative : exitStatus.ok;
}

export function statusCommand(): Command {
  return new Command("status")
    .description("show the consumers of a running server: state, health, lag; exit 1 when any is unhealthy")
    .option("--json", "print the server's answer as JSON (GET /v1/consumers/postgres)", false)
    .addHelpText(
      "after",
      "\nTalks to SEQUIN_URL with SEQUIN_API_TOKEN. Without SEQUIN_URL: the server where SEQUIN_HOST and\n" +
        "SEQUIN_PORT make `sequin start` listen (default http://127.0.0.1:7376).\n" +
        "A consumer not started yet is listed as `not started`, with the changes waiting for it; it is not\n" +
        "unhealthy (nothing runs that could fail or fall behind), so it does not make the exit status 1.\n" +
        "Exit status: 0 no consumer unhealthy, 1 some consumer unhealthy, 2 usage error, invalid environment,\n" +
        "no or refused token, server unreachable.",
    )
    .action((options: { json: boolean }) => reportErrors(() => runStatus(options)));
}
