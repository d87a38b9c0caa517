/**
 * The README's five-minute guide runs as it is. Its first shell block (`sequin start`) runs in a process of
 * its own, as in a terminal of its own; the other shell blocks run one after the other in one bash session,
 * as pasted into a second terminal; its SQL blocks run in the target database between them (the setup as a
 * superuser, the rest as the user it creates). The store is embedded, the target a Postgres server of the
 * test's own. Two substitutions only, since both ports may be taken here: the service's port for 7376 and
 * the target's for 5432.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { freePort } from "../../src/db/postgres-cluster.js";
import { createTableSql } from "../../src/targets/postgres/index.js";
import { onCleanup } from "../helpers/cleanup.js";
import { startOwnCluster } from "../helpers/clusters.js";
import { tempDataDir } from "../helpers/data-dir.js";
import { waitFor } from "../helpers/wait.js";
import { baseEnv, spawnSequin } from "./sequin-process.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

interface Block {
  lang: "sh" | "sql";
  text: string;
}

function guideBlocks(): Block[] {
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const start = readme.indexOf("## Five-minute guide");
  assert.ok(start >= 0, "the README has a five-minute guide");
  const end = readme.indexOf("\n## ", start + 1);
  const guide = readme.slice(start, end < 0 ? undefined : end);
  return [...guide.matchAll(/^```(sh|sql)\n([\s\S]*?)^```$/gm)].map((m) => ({
    lang: m[1] as Block["lang"],
    text: m[2]!,
  }));
}

/** A bash session fed block by block, as a terminal is; fails with its output when a command fails. */
function bashSession(cwd: string, env: Record<string, string>) {
  const child: ChildProcess = spawn("bash", [], {
    cwd,
    env: { ...baseEnv(), ...env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    out += chunk;
  });
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    err += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)));
  onCleanup(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGKILL");
      await exited;
    }
  });
  // as a user watching each command: any failure stops the session
  child.stdin?.write("set -euo pipefail\n");
  let blocks = 0;
  return {
    output: () => out,
    async run(text: string): Promise<void> {
      const marker = `@@ block ${++blocks} done @@`;
      child.stdin?.write(`${text}\necho '${marker}'\n`);
      const done = waitFor(`the shell block to finish:\n${text}`, () => out.includes(marker), 90_000);
      const failed = exited.then((code) => {
        throw new Error(`bash exited (${code}) in the block:\n${text}\nstdout: ${out}\nstderr: ${err}`);
      });
      await Promise.race([done, failed]);
    },
    async end(): Promise<number | null> {
      child.stdin?.end();
      return exited;
    },
  };
}

test("the README's five-minute guide runs as it is against a running service and a real Postgres", async () => {
  const blocks = guideBlocks();
  const [first, ...rest] = blocks;
  assert.equal(first?.lang, "sh");
  assert.equal(first.text.replace(/#.*$/gm, "").trim(), "./bin/sequin start");
  const shell = rest.filter((b) => b.lang === "sh").map((b) => b.text);
  assert.ok(
    shell.some((t) => t.includes("7376")) && shell.some((t) => t.includes("5432")),
    "ports to replace",
  );

  const target = await startOwnCluster();
  const admin = new pg.Client({ connectionString: target.url("postgres") });
  await admin.connect();
  await admin.query("create database app");
  await admin.end();
  const appUrl = new URL(target.url("app"));
  const asSuperuser = new pg.Client({ connectionString: appUrl.toString() });
  await asSuperuser.connect();
  onCleanup(() => asSuperuser.end());

  const port = String(await freePort());
  const env = { SEQUIN_DATA_DIR: await tempDataDir("sequin-guide-"), SEQUIN_PORT: port };
  const service = spawnSequin(["start"], env, root);
  await service.waitForOutput(/^listening on /m, 60_000);

  const bash = bashSession(root, env);
  let sqlBlocks = 0;
  for (const block of rest) {
    if (block.lang === "sh") {
      await bash.run(block.text.replaceAll("7376", port).replaceAll("5432", String(target.port)));
      continue;
    }
    if (sqlBlocks++ === 0) {
      await asSuperuser.query(block.text);
      continue;
    }
    if (/^create table/.test(block.text)) {
      assert.equal(block.text.trim(), createTableSql({ schema: "crm", name: "records" }).trim());
    }
    // after the setup, as the user it made, with the password it gave
    const asSequin = new pg.Client({ ...connectionOf(appUrl), user: "sequin", password: "change-me" });
    await asSequin.connect();
    try {
      await asSequin.query(block.text);
    } finally {
      await asSequin.end();
    }
  }
  assert.equal(await bash.end(), 0, bash.output());
  assert.match(bash.output(), /"accepted":1\b/, "the record was pushed");
  assert.match(bash.output(), /"ok":true\b/, "the table was verified");
  assert.match(bash.output(), /^hubspot-to-app\s+(backfilling|live)\s+healthy\b/m, "sequin status");

  const leads = await waitFor("contact 42 in the table and its view", async () => {
    const { rows } = await asSuperuser.query("select upstream_id from crm.hubspot_leads");
    return rows.length > 0 ? rows : undefined;
  });
  assert.deepEqual(leads, [{ upstream_id: "42" }]);
  const { rows } = await asSuperuser.query("select payload from crm.records");
  assert.deepEqual(rows, [{ payload: { email: "ada@example.com", lifecyclestage: "lead" } }]);
  assert.deepEqual(await service.stop(), { code: 0, signal: null }, service.stderr());
});

function connectionOf(url: URL) {
  return { host: url.hostname, port: Number(url.port), database: url.pathname.slice(1) };
}
