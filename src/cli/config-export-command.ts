/**
 * `sequin config export [-o FILE]`: the server's syncs, targets and consumers as a config file, secrets as
 * `${VAR}` references. Exits 0, or 2 when the server cannot be asked or the file cannot be written.
 */
import { writeFile } from "node:fs/promises";
import { Command } from "commander";
import { reportFailures } from "./config-options.js";
import { UsageError } from "./exit-codes.js";
import { serverClient } from "./server-client.js";

async function runExport(options: { output?: string }): Promise<void> {
  await reportFailures(false, async () => {
    // the providers' kinds name the credential fields to export: loaded only for this command
    const { exportConfig } = await import("../config-file/export.js");
    const yaml = exportConfig(await serverClient().read((api) => api.state()));
    if (!options.output) {
      process.stdout.write(yaml);
      return;
    }
    await writeFile(options.output, yaml).catch((error: Error) => {
      throw new UsageError(`cannot write ${options.output}: ${error.message}`);
    });
  });
}

export function configExportCommand(): Command {
  return new Command("export")
    .description(
      `print the server's syncs, targets and consumers as a config file (secrets as \${VAR} references)`,
    )
    .option("-o, --output <file>", "write the file instead of printing it")
    .addHelpText(
      "after",
      `\nPasswords become \${<TARGET_NAME>_PASSWORD} (and \${<TARGET_NAME>_SSH_PRIVATE_KEY}): set them before apply.\n` +
        "Exit status: 0 printed or written; 2 usage error, no or refused token, server unreachable, -o file not writable.",
    )
    .action(runExport);
}
