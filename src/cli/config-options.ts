/**
 * What the `sequin config …` commands share: the `-f FILE` option (repeatable, merged in order) and how
 * failures print. Exit statuses follow the CLI's rule (exit-codes.ts); plan keeps 1 for any error.
 */
import { type Command, Option } from "commander";
import { ApplyError } from "../config-file/apply.js";
import { ConfigFileError } from "../config-file/config-file-error.js";
import type { LoadedConfig } from "../config-file/load.js";
import { plural } from "../plural.js";
import { exitStatus, exitStatusOf } from "./exit-codes.js";

export const defaultConfigFile = "sequin.yaml";

export interface ConfigCommandOptions {
  file: string[];
  json: boolean;
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function withFileOptions(command: Command): Command {
  return command
    .addOption(
      new Option(
        "-f, --file <file>",
        "config file; repeat to merge overrides in order, e.g. -f sequin.yaml -f sequin.dev.yaml",
      )
        .argParser(collect)
        .default([], defaultConfigFile),
    )
    .option("--json", "print machine-readable JSON", false);
}

export async function loadFiles(options: { file: string[] }): Promise<LoadedConfig> {
  // the loader checks every entry with the API's schemas, which load most of the domain: only when asked
  const { loadConfigFiles } = await import("../config-file/load.js");
  return loadConfigFiles(options.file.length > 0 ? options.file : [defaultConfigFile], process.env);
}

/**
 * Runs a command body; prints what went wrong (also as JSON on stdout with --json) and sets the exit status
 * by the CLI's rule (`usageStatus` for `config plan`, whose 2 means "changes").
 */
export async function reportFailures(
  json: boolean,
  run: () => Promise<void>,
  usageStatus: number = exitStatus.usage,
): Promise<void> {
  try {
    await run();
  } catch (error) {
    const status = exitStatusOf(error);
    if (status === undefined) throw error;
    if (error instanceof ConfigFileError) {
      if (json) process.stdout.write(`${JSON.stringify({ problems: error.problems }, null, 2)}\n`);
      process.stderr.write(`sequin: ${error.message}\n`);
    } else if (error instanceof ApplyError) {
      if (json) process.stdout.write(`${JSON.stringify(applyErrorJson(error), null, 2)}\n`);
      process.stderr.write(applyErrorText(error));
    } else {
      if (json) process.stdout.write(`${JSON.stringify({ error: (error as Error).message })}\n`);
      process.stderr.write(`sequin: ${(error as Error).message}\n`);
    }
    process.exitCode = status === exitStatus.usage ? usageStatus : status;
  }
}

function applyErrorJson(error: ApplyError) {
  return {
    error: error.message,
    failed: error.action,
    applied: error.done,
    ...(error.problems.length > 0 ? { problems: error.problems } : {}),
  };
}

export function applyErrorText(error: ApplyError): string {
  const lines = [`sequin: apply stopped: ${error.message}`];
  for (const problem of error.problems) {
    lines.push(`  - ${problem.message}`);
    if (problem.fix_sql && !problem.message.includes(problem.fix_sql)) {
      lines.push(`    fix: ${problem.fix_sql.replace(/\n/g, "\n         ")}`);
    }
  }
  lines.push(
    `${plural(error.done.length, "change was", "changes were")} applied before it. Fix the problem and apply again: what is done stays done.`,
  );
  return `${lines.join("\n")}\n`;
}
