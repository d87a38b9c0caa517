/**
 * `./bin/sequin …` as a child process, for tests: waits for output with a deadline, and is killed after
 * the file's tests if a test left it running.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { after } from "node:test";
import { fileURLToPath } from "node:url";

export const sequinBin = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "bin", "sequin");

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface SequinProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first match of `pattern` in stdout; rejects if the process exits or time runs out. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  exited: Promise<Exit>;
  /** Sends `signal` and waits for the exit, failing after `timeoutMs`. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<Exit>;
}

/** The parent's environment without SEQUIN_* settings (the test harness's own SEQUIN_TEST_* stay). */
export function baseEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith("SEQUIN_") || key.startsWith("SEQUIN_TEST_")) env[key] = value;
  }
  return env;
}

function withDeadline<T>(promise: Promise<T>, timeoutMs: number, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms: ${what()}`)), timeoutMs);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

export function spawnSequin(
  args: string[],
  env: Record<string, string> = {},
  cwd?: string,
  bin = sequinBin,
): SequinProcess {
  const child = spawn(bin, args, {
    env: { ...baseEnv(), ...env },
    cwd,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    out += chunk;
  });
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    err += chunk;
  });
  const exited = new Promise<Exit>((resolve) =>
    child.once("close", (code, signal) => resolve({ code, signal })),
  );
  after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGKILL");
      await exited;
    }
  });

  const describe = () => `sequin ${args.join(" ")}\nstdout: ${out}\nstderr: ${err.slice(-3000)}`;
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitForOutput(pattern, timeoutMs = 30_000) {
      const found = new Promise<RegExpMatchArray>((resolve, reject) => {
        const check = () => {
          const match = out.match(pattern);
          if (match) {
            child.stdout?.off("data", check);
            resolve(match);
          }
        };
        child.stdout?.on("data", check);
        check();
        exited.then((exit) =>
          reject(new Error(`exited (${exit.code ?? exit.signal}) before ${pattern}: ${describe()}`)),
        );
      });
      return withDeadline(found, timeoutMs, () => `waiting for ${pattern}: ${describe()}`);
    },
    async stop(signal = "SIGTERM", timeoutMs = 30_000) {
      child.kill(signal);
      return withDeadline(exited, timeoutMs, () => `waiting for exit after ${signal}: ${describe()}`);
    },
  };
}

/** Runs a command to its end. */
export async function runSequin(
  args: string[],
  env: Record<string, string> = {},
  cwd?: string,
  bin = sequinBin,
  timeoutMs = 30_000,
) {
  const run = spawnSequin(args, env, cwd, bin);
  const exit = await withDeadline(run.exited, timeoutMs, () => `sequin ${args.join(" ")}`);
  return { ...exit, stdout: run.stdout(), stderr: run.stderr() };
}
