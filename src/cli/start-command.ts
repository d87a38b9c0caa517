/**
 * `sequin start`: its options and help. What it runs (start-run.ts) is loaded when it runs, so the other
 * commands do not load the whole service at start-up.
 */
import { Command } from "commander";

export function startCommand(): Command {
  return new Command("start")
    .description("run the API, the console and the consumer workers until SIGTERM/SIGINT")
    .option(
      "--config <file>",
      "apply this config file once the service listens (repeat to merge overrides; see docs/config.md)",
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .addHelpText(
      "after",
      "\nWithout SEQUIN_DATABASE_URL the store is an embedded Postgres in SEQUIN_DATA_DIR (default ./.sequin).\n" +
        "The chosen URL is printed on a line starting `listening on `.\n" +
        "With --config, an invalid file exits 2 before anything starts; a file that cannot be applied stops it (exit 1).\n" +
        "Exit status: 0 stopped cleanly; 1 could not start (port or data directory in use) or a --config file\n" +
        "could not be applied; 2 usage error, invalid environment or config file, store unreachable.",
    )
    .action(async (options: { config?: string[] }) => {
      const { runStart } = await import("./start-run.js");
      await runStart(options);
    });
}
