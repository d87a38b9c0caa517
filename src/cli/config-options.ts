/**
 * What the `sequin config …` commands share: the `-f FILE` option (repeatable, merged in order), the
 * server at SEQUIN_URL with SEQUIN_API_TOKEN, and how failures print. Any failure exits 1 (plan's 2 means
 * "there are changes").
 */
import { type Command, Option } from "commander";
import { loadConfig } from "../config.js";
import {
  ApplyError,
  ConfigFileError,
  type LoadedConfig,
  loadConfigFiles,
  ServerApi,
  ServerUnreachable,
} from "../config-file/index.js";
import { SequinError } from "../errors.js";

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

/** A failure the command reports and exits 1 for. */
export class CommandFailure extends Error {
  override name = "CommandFailure";
}

export function serverApi(): ServerApi {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof SequinError) throw new CommandFailure(error.message);
    throw error;
  }
  const where = `the server at SEQUIN_URL=${config.url}`;
  if (!config.apiToken) {
    throw new CommandFailure(
      `SEQUIN_API_TOKEN is not set: set it to an API token of ${where} (the one printed at its first start)`,
    );
  }
  return new ServerApi(config.url, config.apiToken, where);
}

export function loadFiles(options: { file: string[] }): Promise<LoadedConfig> {
  return loadConfigFiles(options.file.length > 0 ? options.file : [defaultConfigFile], process.env);
}

/** Runs a command body; prints what went wrong and sets exit status 1. */
export async function reportFailures(json: boolean, run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (error) {
    if (error instanceof ConfigFileError) {
      if (json) process.stdout.write(`${JSON.stringify({ problems: error.problems }, null, 2)}\n`);
      process.stderr.write(`sequin: ${error.message}\n`);
    } else if (error instanceof ApplyError) {
      if (json) process.stdout.write(`${JSON.stringify(applyErrorJson(error), null, 2)}\n`);
      process.stderr.write(applyErrorText(error));
    } else if (error instanceof CommandFailure || error instanceof ServerUnreachable) {
      if (json) process.stdout.write(`${JSON.stringify({ error: error.message })}\n`);
      process.stderr.write(`sequin: ${error.message}\n`);
    } else {
      throw error;
    }
    process.exitCode = 1;
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
    `${error.done.length} change(s) were applied before it. Fix the problem and apply again: what is done stays done.`,
  );
  return `${lines.join("\n")}\n`;
}
