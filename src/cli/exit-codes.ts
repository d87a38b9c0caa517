/**
 * Exit statuses, one rule for every command (the README's table lists them per command):
 *
 *   0  done
 *   1  the command's documented negative outcome (`status`: some consumer or sync is unhealthy; `config
 *      apply`: the server refused a change; `demo`: the demo failed; `start`: the service could not start or
 *      run)
 *   2  usage, configuration or connection errors: an unknown option, a missing or invalid option, an invalid
 *      environment variable or config file, no token or a refused one, a server or store that cannot be
 *      reached
 *
 * `config plan` keeps a rule of its own, as `diff` does: 0 no changes, 2 changes, 1 any error.
 */
import type { Command, CommanderError } from "commander";
import { ApiRefusal, ServerUnreachable } from "../api-client.js";
// the error classes from their own modules: the config file's index loads every schema, which each command
// would pay for at start
import { ApplyError } from "../config-file/apply.js";
import { ConfigFileError } from "../config-file/config-file-error.js";
import { SequinError } from "../errors.js";

export const exitStatus = { ok: 0, negative: 1, usage: 2 } as const;

/** A usage, configuration or connection error the command prints as `sequin: <message>` (exit 2). */
export class UsageError extends Error {
  override name = "UsageError";
}

/** The command's documented negative outcome, printed as `sequin: <message>` (exit 1). */
export class CommandFailure extends Error {
  override name = "CommandFailure";
}

/** The exit status of an error a command reports, or undefined for an unexpected one (a bug: rethrown). */
export function exitStatusOf(error: unknown): number | undefined {
  if (error instanceof CommandFailure || error instanceof ApplyError) return exitStatus.negative;
  if (
    error instanceof UsageError ||
    error instanceof ConfigFileError ||
    error instanceof ServerUnreachable ||
    // the server answered, but with an error, before anything was changed (e.g. its store is down)
    error instanceof ApiRefusal ||
    (error instanceof SequinError && error.code === "config_invalid")
  )
    return exitStatus.usage;
  return undefined;
}

/**
 * Runs a command's body; an error it reports prints `sequin: <message>` and sets the exit status by the
 * rule above (`usageStatus` for `config plan`, whose 2 means "changes").
 */
export async function reportErrors(
  run: () => Promise<void> | void,
  usageStatus: number = exitStatus.usage,
): Promise<void> {
  try {
    await run();
  } catch (error) {
    const status = exitStatusOf(error);
    if (status === undefined) throw error;
    process.stderr.write(`sequin: ${(error as Error).message}\n`);
    process.exitCode = status === exitStatus.usage ? usageStatus : status;
  }
}

/** Commands whose usage errors exit with another status than 2 (`config plan`). */
const usageStatusOf = new WeakMap<Command, number>();

export function withUsageStatus(command: Command, status: number): Command {
  usageStatusOf.set(command, status);
  return command;
}

/**
 * Applies the rule to commander's own errors (unknown option or command, missing or invalid option value,
 * a command group run without a command) in `command` and all its subcommands: they exit 2 instead of 1,
 * print `sequin: …` like every other error, and point at the command's --help.
 */
export function applyExitRule(command: Command, inherited: number = exitStatus.usage): void {
  const status = usageStatusOf.get(command) ?? inherited;
  command
    .exitOverride((error: CommanderError) => {
      process.exit(error.exitCode === 0 ? 0 : status);
    })
    .configureOutput({
      outputError: (text, write) => write(text.replace(/^error: /, "sequin: ")),
    })
    .showHelpAfterError(`(run \`${commandPath(command)} --help\` for usage)`);
  for (const sub of command.commands) applyExitRule(sub, status);
}

function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c; c = c.parent) names.unshift(c.name());
  return names.join(" ");
}
