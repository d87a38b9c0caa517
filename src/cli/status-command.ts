/**
 * `sequin status [--json]`: the consumers of the server at SEQUIN_URL (or SEQUIN_HOST/SEQUIN_PORT) with
 * their state, health and lag, then its syncs with, for those that pull their provider, the source's state,
 * collections, backfill progress and requests.
 * Exits 0 when none is unhealthy, 1 when any consumer or sync is, 2 when the server cannot be asked.
 */
import { Command } from "commander";
import { exitStatus, reportErrors } from "./exit-codes.js";
import { serverClient } from "./server-client.js";
import { type ConsumerStatus, isUnhealthy, statusTable } from "./status-table.js";
import { isUnhealthySync, type SyncStatus, syncStatusTable } from "./sync-status-table.js";

async function runStatus(options: { json: boolean }): Promise<void> {
  const server = serverClient();
  const [consumers, syncs] = await server.read((api) =>
    Promise.all([
      api.request<{ data: ConsumerStatus[] }>("GET", "/v1/consumers/postgres"),
      api.request<{ data: SyncStatus[] }>("GET", "/v1/syncs"),
    ]),
  );
  process.stdout.write(
    options.json
      ? `${JSON.stringify({ data: consumers.data, syncs: syncs.data }, null, 2)}\n`
      : `${statusTable(consumers.data)}\n${syncStatusTable(syncs.data)}`,
  );
  const unhealthy = consumers.data.some(isUnhealthy) || syncs.data.some(isUnhealthySync);
  process.exitCode = unhealthy ? exitStatus.negative : exitStatus.ok;
}

export function statusCommand(): Command {
  return new Command("status")
    .description(
      "show the consumers and syncs of a running server: state, health, lag, sources; exit 1 when any is unhealthy",
    )
    .option(
      "--json",
      "print the server's answers as JSON: {data: consumers (GET /v1/consumers/postgres), syncs: (GET /v1/syncs)}",
      false,
    )
    .addHelpText(
      "after",
      "\nTalks to SEQUIN_URL with SEQUIN_API_TOKEN. Without SEQUIN_URL: the server where SEQUIN_HOST and\n" +
        "SEQUIN_PORT make `sequin start` listen (default http://127.0.0.1:7376).\n" +
        "A consumer not started yet is listed as `not started`, with the changes waiting for it; it is not\n" +
        "unhealthy (nothing runs that could fail or fall behind), so it does not make the exit status 1.\n" +
        "A sync that pulls its provider shows its source (backfilling, live, paused, failing) and each\n" +
        "collection's records and backfill; a failing one is unhealthy (being paused alone is not).\n" +
        "Exit status: 0 no consumer or sync unhealthy, 1 some consumer or sync unhealthy, 2 usage error,\n" +
        "invalid environment, no or refused token, server unreachable.",
    )
    .action((options: { json: boolean }) => reportErrors(() => runStatus(options)));
}
