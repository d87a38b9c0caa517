/**
 * `sequin status [--json]`: the consumers of the server at SEQUIN_URL with their state, health and lag.
 * Exits 0 when all are healthy, 1 when any is unhealthy, 2 when the server cannot be asked.
 */
import { Command } from "commander";
import { ApiClient, ServerUnavailable } from "./api-client.js";
import { configOrExit } from "./config-or-exit.js";
import { type ConsumerStatus, isUnhealthy, statusTable } from "./status-table.js";

async function runStatus(options: { json: boolean }): Promise<void> {
  const config = configOrExit();
  const client = new ApiClient(config.url, config.apiToken);
  let consumers: { data: ConsumerStatus[] };
  try {
    consumers = await client.get<{ data: ConsumerStatus[] }>("/v1/consumers/postgres");
  } catch (error) {
    if (!(error instanceof ServerUnavailable)) throw error;
    process.stderr.write(`sequin: ${error.message}\n`);
    process.exitCode = 2;
    return;
  }
  process.stdout.write(
    options.json ? `${JSON.stringify(consumers, null, 2)}\n` : statusTable(consumers.data),
  );
  process.exitCode = consumers.data.some(isUnhealthy) ? 1 : 0;
}

export function statusCommand(): Command {
  return new Command("status")
    .description("show the consumers of a running server: state, health, lag; exit 1 when any is unhealthy")
    .option("--json", "print the server's answer as JSON (GET /v1/consumers/postgres)", false)
    .addHelpText(
      "after",
      "\nTalks to SEQUIN_URL (default http://127.0.0.1:7376) with SEQUIN_API_TOKEN.\n" +
        "Exit status: 0 all healthy, 1 some consumer unhealthy, 2 the server cannot be reached or refuses the token.",
    )
    .action(runStatus);
}
