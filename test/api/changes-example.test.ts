/**
 * The example consumer of docs/changes-feed.md, run as a user would: `node examples/changes-feed-consumer.mjs`
 * against a running service and a database of its own. It is killed mid-stream and started again while
 * records change, and stopped with SIGTERM while it waits in a long poll; its table must equal the stream.
 * The doc must show the file exactly.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import pg from "pg";
import { onCleanup } from "../helpers/cleanup.js";
import { createDatabase } from "../helpers/database.js";
import { startTestService } from "../helpers/service.js";
import { waitFor } from "../helpers/wait.js";

const root = join(import.meta.dirname, "..", "..");
const examplePath = join(root, "examples", "changes-feed-consumer.mjs");

const api = await startTestService();
const targetUrl = await createDatabase("feed_target");
const target = new pg.Pool({ connectionString: targetUrl, max: 2 });
onCleanup(() => target.end());

const sync = (await api.request("POST", "/v1/syncs", { body: { name: "crm", provider: "hubspot" } })).body;
let version = 0;

/** `n` changes over `keys` keys of two collections, one in five a delete. */
async function change(n: number, keys: number): Promise<void> {
  for (let start = 0; start < n; start += 2000) {
    const records = Array.from({ length: Math.min(2000, n - start) }, () => {
      const v = ++version;
      const key = String(Math.floor(Math.random() * keys));
      const collection_id = v % 3 === 0 ? "deal" : "contact";
      const upstream_updated_at = new Date(Date.UTC(2024, 0, 1) + v).toISOString();
      return v % 5 === 0
        ? { collection_id, upstream_id: key, deleted: true, upstream_updated_at }
        : {
            collection_id,
            upstream_id: key,
            payload: { v, email: `${key}@example.com` },
            upstream_updated_at,
          };
    });
    const response = await api.request("POST", `/v1/syncs/${sync.id}/records`, { body: { records } });
    assert.equal(response.status, 200, JSON.stringify(response.body));
  }
}

function startExample(): { child: ChildProcess; stderr: () => string } {
  const child = spawn(process.execPath, [examplePath], {
    cwd: root,
    env: {
      ...process.env,
      SEQUIN_URL: api.url,
      SEQUIN_API_TOKEN: api.token,
      SYNC_ID: sync.id,
      DATABASE_URL: targetUrl,
    },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (chunk) => (stderr += chunk));
  onCleanup(() => child.exitCode === null && child.signalCode === null && child.kill("SIGKILL"));
  return { child, stderr: () => stderr };
}

const rowsSql = `select sequin_id::text, collection_id, upstream_id, payload::text,
  to_char(upstream_updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') as at`;

/** What differs between the example's table and the live records of the stream. */
async function differences(): Promise<string[]> {
  const ours = await api.store.pool.query(
    `${rowsSql} from sequin_records where sync_id = $1 and not deleted order by 1`,
    [sync.id],
  );
  const theirs = await target.query(`${rowsSql} from records order by 1`).catch(() => ({ rows: [] }));
  const key = (r: Record<string, string>) => JSON.stringify(r);
  const mine = new Set(ours.rows.map(key));
  const copy = new Set(theirs.rows.map(key));
  return [
    ...[...mine].filter((r) => !copy.has(r)).map((r) => `missing or stale: ${r}`),
    ...[...copy].filter((r) => !mine.has(r)).map((r) => `extra or stale: ${r}`),
  ];
}

async function tableCount(): Promise<number> {
  const { rows } = await target
    .query("select count(*)::int as n from records")
    .catch(() => ({ rows: [{ n: 0 }] }));
  return rows[0].n;
}

test("the documentation shows the example file exactly", async () => {
  const doc = await readFile(join(root, "docs", "changes-feed.md"), "utf8");
  const example = await readFile(examplePath, "utf8");
  assert.ok(
    doc.includes(`\`\`\`js\n${example}\`\`\``),
    "docs/changes-feed.md holds examples/changes-feed-consumer.mjs verbatim",
  );
});

test("the example consumer copies the stream, survives kill -9, follows live changes, stops on SIGTERM", async (t) => {
  await change(6000, 3000);
  const first = startExample();
  await waitFor("the example's first page", async () => (await tableCount()) > 0);
  first.child.kill("SIGKILL");
  await once(first.child, "exit");
  const atKill = await tableCount();
  await change(3000, 3000);

  const second = startExample();
  const restarted = Date.now();
  await waitFor(
    "the table to equal the stream after the restart",
    async () => (await differences()).length === 0,
    30_000,
  ).catch(() => {});
  assert.deepEqual((await differences()).slice(0, 5), [], second.stderr());
  const caughtUp = Date.now() - restarted;

  // live: changes made while it waits in its long poll arrive without a restart
  await change(500, 3000);
  const changed = Date.now();
  await waitFor("the live changes", async () => (await differences()).length === 0, 20_000).catch(() => {});
  assert.deepEqual((await differences()).slice(0, 5), [], second.stderr());
  const followed = Date.now() - changed;

  const stopping = Date.now();
  second.child.kill("SIGTERM");
  const [code] = await once(second.child, "exit");
  const took = Date.now() - stopping;
  assert.equal(code, 0, second.stderr());
  assert.ok(took < 5000, `stopped after ${took} ms`);
  assert.equal(second.stderr(), "");
  t.diagnostic(
    `killed with ${atKill} rows in the table; caught up ${caughtUp} ms after the restart; live changes in ${followed} ms; SIGTERM took ${took} ms`,
  );
});
