/**
 * One exit rule for every command (README "Exit status"): 0 done, 1 the command's negative outcome, 2 usage,
 * configuration and connection errors; `config plan` keeps 0 none / 2 changes / 1 any error. Each command's
 * usage errors and connection errors are run here; the negative outcomes are in each command's own tests.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { onCleanup } from "../helpers/cleanup.js";
import { startTestService } from "../helpers/service.js";
import { runSequin } from "./sequin-process.js";

const dir = await mkdtemp(join(tmpdir(), "sequin-exit-"));
onCleanup(() => rm(dir, { recursive: true, force: true }));
const file = join(dir, "sequin.yaml");
await writeFile(file, "syncs:\n  - name: exit-codes\n    provider: hubspot\n");

interface Case {
  args: string[];
  env?: Record<string, string>;
  status: number;
  /** What stderr says, after `sequin: ` (a command group run without a command prints its help instead). */
  says?: RegExp;
}

/** Runs the cases two at a time (each is a process of its own) and reports every mismatch at once. */
async function check(cases: Case[]): Promise<void> {
  const wrong: string[] = [];
  const queue = [...cases];
  const worker = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      const { args, env = {}, status, says } = next;
      const result = await runSequin(args, { SEQUIN_DATA_DIR: dir, ...env });
      const problems = [
        result.code === status ? "" : `exit ${result.code}, expected ${status}`,
        says && !says.test(result.stderr) ? `stderr does not match ${says}` : "",
        says && !/^sequin: /.test(result.stderr) ? "stderr does not start with `sequin: `" : "",
      ].filter(Boolean);
      if (problems.length > 0) {
        wrong.push(`sequin ${args.join(" ")}: ${problems.join("; ")}\n  stderr: ${result.stderr.trim()}`);
      }
    }
  };
  await Promise.all([worker(), worker()]);
  assert.deepEqual(wrong, []);
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

test("usage errors exit 2 in every command (1 in config plan, whose 2 means changes); --help exits 0", async () => {
  const unknownOption = /unknown option '--bogus'/;
  await check([
    { args: [], status: 2 },
    { args: ["bogus"], status: 2, says: /unknown command 'bogus'/ },
    { args: ["--bogus"], status: 2, says: unknownOption },
    { args: ["start", "--bogus"], status: 2, says: unknownOption },
    { args: ["start"], env: { SEQUIN_PORT: "x" }, status: 2, says: /SEQUIN_PORT must be a whole number/ },
    { args: ["demo", "--bogus"], status: 2, says: unknownOption },
    { args: ["demo", "--records", "0"], status: 2, says: /--records/ },
    { args: ["sql"], status: 2 },
    { args: ["sql", "table", "--schema", "s"], status: 2, says: /required option '--table <table>'/ },
    { args: ["sql", "table", "--schema", "", "--table", "t"], status: 2, says: /--schema must not be empty/ },
    { args: ["sql", "setup", "--schema", "s"], status: 2, says: /required option '--user <user>'/ },
    { args: ["sql", "setup", "--schema", "s", "--user", ""], status: 2, says: /--user must not be empty/ },
    { args: ["status", "--jsn"], status: 2, says: /unknown option '--jsn'/ },
    { args: ["status"], env: { SEQUIN_URL: "ftp://x" }, status: 2, says: /SEQUIN_URL must be a URL/ },
    { args: ["config"], status: 2 },
    { args: ["config", "plan", "--bogus"], status: 1, says: unknownOption },
    { args: ["config", "plan", "-f", join(dir, "missing.yaml")], status: 1, says: /cannot read the file/ },
    { args: ["config", "apply", "--bogus"], status: 2, says: unknownOption },
    { args: ["config", "apply", "-f", join(dir, "missing.yaml")], status: 2, says: /cannot read the file/ },
    { args: ["config", "export", "--bogus"], status: 2, says: unknownOption },
    { args: ["token"], status: 2 },
    { args: ["token", "create", "--bogus"], status: 2, says: unknownOption },
    { args: ["token", "create"], env: { SEQUIN_DATABASE_URL: "mysql://x" }, status: 2 },
    { args: ["version", "--bogus"], status: 2, says: unknownOption },
  ]);
  const help = [
    "start",
    "demo",
    "sql table",
    "sql setup",
    "status",
    "config plan",
    "config apply",
    "config export",
    "token create",
  ];
  await check([
    { args: ["--help"], status: 0 },
    ...help.map((command) => ({ args: [...command.split(" "), "--help"], status: 0 })),
  ]);
});

test("connection errors exit 2 (1 in config plan): no server, no token, a refused token, no store", async () => {
  const api = await startTestService();
  const nowhere = { SEQUIN_URL: `http://127.0.0.1:${await closedPort()}`, SEQUIN_API_TOKEN: api.token };
  const refused = { SEQUIN_URL: api.url, SEQUIN_API_TOKEN: `${api.token}-refused` };
  const noToken = { SEQUIN_URL: api.url };
  const cannotReach = /cannot reach the server at SEQUIN_URL=/;
  const refusedToken = /refused the token in SEQUIN_API_TOKEN/;
  const notSet = /SEQUIN_API_TOKEN is not set/;
  const client: [string[], number][] = [
    [["status"], 2],
    [["config", "plan", "-f", file], 1],
    [["config", "apply", "-f", file], 2],
    [["config", "export"], 2],
  ];
  const noStore = `postgres://sequin:secret@127.0.0.1:${await closedPort()}/sequin`;
  await check([
    ...client.flatMap(([args, status]) => [
      { args, env: nowhere, status, says: cannotReach },
      { args, env: refused, status, says: refusedToken },
      { args, env: noToken, status, says: notSet },
    ]),
    { args: ["start"], env: { SEQUIN_DATABASE_URL: noStore, SEQUIN_PORT: "0" }, status: 2 },
    { args: ["token", "create"], env: { SEQUIN_DATABASE_URL: noStore }, status: 2, says: /ECONNREFUSED/ },
  ]);
});
