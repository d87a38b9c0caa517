/** `sequin demo`: the main job end to end on embedded defaults. */
import { Command, InvalidArgumentError } from "commander";
import { exitStatus } from "../exit-codes.js";
import { runDemo } from "./demo-run.js";

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
    .option("--keep", "keep the scratch data directory instead of deleting it", false)
    .action(async (options: { records: number; keep: boolean }) => {
      try {
        await runDemo({ records: options.records, keep: options.keep, print: (line) => console.log(line) });
      } catch (error) {
        console.error(`demo failed: ${(error as Error).message}`);
        process.exitCode = exitStatus.negative;
      }
    });
}
