/**
 * `sequin token create`: prints a new admin API token for the store of SEQUIN_DATABASE_URL or
 * SEQUIN_DATA_DIR, the way back when the first one was lost. Works with the service stopped (an embedded
 * store's Postgres starts for a moment) and while it runs (the token goes into the store the service uses,
 * which accepts it at once).
 */
import { Command } from "commander";
import { createToken } from "../api/api-tokens.js";
import { openStore } from "../db/store.js";
import { SequinError } from "../errors.js";
import { CommandFailure, reportErrors, UsageError } from "./exit-codes.js";
import { clientConfig } from "./server-client.js";

const quiet = { info: () => {} };

async function runCreate(): Promise<void> {
  const config = clientConfig();
  let store: Awaited<ReturnType<typeof openStore>>;
  try {
    store = await openStore(config, quiet, { shareRunning: true });
  } catch (error) {
    // a store that cannot be reached, or a data directory held by a service whose store cannot be reached
    if (error instanceof SequinError) throw new UsageError(error.message);
    throw new CommandFailure(`cannot start the embedded store: ${(error as Error).message}`);
  }
  try {
    const token = await createToken(store.pool, "admin (sequin token create)");
    process.stdout.write(`${token}\n`);
  } finally {
    await store.close();
  }
}

export function tokenCommand(): Command {
  const create = new Command("create")
    .description("print a new admin API token (the way back when the first one was lost)")
    .addHelpText(
      "after",
      "\nThe token is stored (as a hash only) in the store of SEQUIN_DATABASE_URL, or without it in the embedded\n" +
        "store in SEQUIN_DATA_DIR (default ./.sequin). It works with the service stopped, and while it runs: the\n" +
        "service accepts the new token at once. Earlier tokens stay valid. The token is printed once, alone on\n" +
        "its line: export SEQUIN_API_TOKEN=$(sequin token create)\n" +
        "Exit status: 0 printed; 1 the embedded store could not be started; 2 usage error, invalid environment,\n" +
        "store unreachable.",
    )
    .action(() => reportErrors(runCreate));
  return new Command("token").description("admin API tokens").addCommand(create);
}
