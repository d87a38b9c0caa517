/**
 * The test command. Starts a throwaway Postgres server for the run (or uses SEQUIN_TEST_DATABASE_URL),
 * builds a migrated template database that each test file clones into its own database, then runs the
 * test files with node's own runner. Exits non-zero when any test fails or when no test file was found.
 *
 *   npm test                 every file in test/ except chaos tests
 *   npm test -- test/x.test.ts   only the named files
 *   npm run chaos            the long fault-injection runs
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import pg from "pg";
import { migrate } from "../src/db/migrate.js";
import { PostgresCluster } from "../src/db/postgres-cluster.js";
import { ensureSystemPackages, testPackages } from "./system-packages.js";

const args = process.argv.slice(2);
const chaos = args.includes("--chaos");
const named = args.filter((a) => !a.startsWith("--"));

function findTests(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return findTests(path);
    return entry.name.endsWith(".test.ts") ? [relative(process.cwd(), path)] : [];
  });
}

const files = named.length > 0 ? named : findTests("test").filter((f) => f.includes(".chaos.") === chaos);
if (files.length === 0) {
  console.error("no test files found");
  process.exit(1);
}

// Installed once here, before test files run side by side (see scripts/system-packages.ts). When that is
// not possible (not root), the tests that need a package fail with the command to run.
try {
  ensureSystemPackages(testPackages);
} catch (error) {
  console.error(`warning: ${(error as Error).message}`);
}

let cluster: PostgresCluster | undefined;
let serverUrl = process.env.SEQUIN_TEST_DATABASE_URL;
if (!serverUrl) {
  cluster = new PostgresCluster({
    dataDir: join(tmpdir(), `sequin-test-${randomBytes(4).toString("hex")}`),
    settings: { fsync: "off", synchronous_commit: "off", full_page_writes: "off", max_connections: "400" },
  });
  await cluster.start();
  serverUrl = cluster.url();
}

const template = `sequin_template_${randomBytes(4).toString("hex")}`;
const admin = new pg.Client({ connectionString: serverUrl });
await admin.connect();
await admin.query(`create database ${template}`);
const templatePool = new pg.Pool({ connectionString: withDatabase(serverUrl, template), max: 1 });
await migrate(templatePool);
await templatePool.end();

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

const concurrency = process.env.SEQUIN_TEST_CONCURRENCY ?? "4";
// the limit applies to each file's whole run too: the longest (the config commands, dozens of CLI processes
// and services one after another) takes 2 to 5 minutes on a busy 2-core machine; a hang still ends here
const timeoutMs = 600_000;
const child = spawn(
  process.execPath,
  ["--import", "tsx", "--test", `--test-concurrency=${concurrency}`, `--test-timeout=${timeoutMs}`, ...files],
  {
    stdio: "inherit",
    env: { ...process.env, SEQUIN_TEST_SERVER_URL: serverUrl, SEQUIN_TEST_TEMPLATE: template },
  },
);
const forward = (signal: NodeJS.Signals) => child.kill(signal);
process.on("SIGINT", forward);
process.on("SIGTERM", forward);
const code: number = await new Promise((resolve) => child.on("exit", (c, s) => resolve(c ?? (s ? 1 : 0))));

await admin.query(`drop database if exists ${template}`).catch(() => {});
await admin.end();
await cluster?.destroy();
process.exit(code);
