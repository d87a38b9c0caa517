/** `sequin demo`: the main job end to end on embedded defaults (SEQUIN_DATA_DIR honoured when set). */
import { resolve } from "node:path";
import { Command, InvalidArgumentError } from "commander";
import { ApiRefusal, ServerUnreachable } from "../../api-client.js";
import { exitStatus, exitStatusOf } from "../exit-codes.js";

function positiveCount(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 1_000_000) {
    throw new InvalidArgumentError("must be a whole number from 1 to 1000000");
  }
  return Number(value);
}

export function demoCommand(): Command {
  return new Command("demo")
    .description(
      "run the main job end to end on an embedded Postgres: a sync with records, a target database prepared with the recommended least-privilege setup (`sequin sql setup`), a consumer that backfills then follows live changes, and a query through the README's example view",
    )
    .option("--records <n>", "contacts to ingest before the backfill", positiveCount, 5000)
    .option(
      "--keep",
      "keep the temporary data directory instead of deleting it (with SEQUIN_DATA_DIR it is always kept)",
      false,
    )
    .addHelpText(
      "after",
      "\nData: without SEQUIN_DATA_DIR the demo runs in a new temporary folder, deleted at the end unless --keep.\n" +
        "With SEQUIN_DATA_DIR it runs there and keeps it, so that `sequin start` can show it afterwards; that\n" +
        "folder must be new, empty or an earlier demo's (a rerun replaces what the earlier demo made). Other\n" +
        "SEQUIN_* settings are not used: the demo picks a free port and a token of its own.\n" +
        "Exit status: 0 the demo ran; 1 the demo failed; 2 usage error, a SEQUIN_DATA_DIR it must not use.",
    )
    .action(async (options: { records: number; keep: boolean }) => {
      const dataDir = process.env.SEQUIN_DATA_DIR?.trim();
      const vaultKey = process.env.SEQUIN_VAULT_KEY?.trim();
      try {
        // loaded when the demo runs: it starts a whole service, which the other commands need not load
        const { runDemo } = await import("./demo-run.js");
        await runDemo({
          records: options.records,
          keep: options.keep,
          ...(dataDir ? { dataDir: resolve(dataDir) } : {}),
          ...(vaultKey ? { vaultKey } : {}),
          print: (line) => console.log(line),
        });
      } catch (error) {
        const status = exitStatusOf(error);
        // the demo's own service refusing or not answering is a failed demo, not a usage error
        const ownService = error instanceof ApiRefusal || error instanceof ServerUnreachable;
        if (status === exitStatus.usage && !ownService) {
          process.stderr.write(`sequin: ${(error as Error).message}\n`);
          process.exitCode = status;
          return;
        }
        console.error(`demo failed: ${(error as Error).message}`);
        process.exitCode = exitStatus.negative;
      }
    });
}
