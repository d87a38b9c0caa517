/**
 * The admin token is never lost: a first start that fails (its port taken) does not use it up, and
 * `sequin token create` makes a new one for the embedded store (service stopped or running) and for a
 * store at SEQUIN_DATABASE_URL (alongside a running service).
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { after, test } from "node:test";
import { tempDataDir } from "../helpers/data-dir.js";
import { createTestStore } from "../helpers/database.js";
import { apiClient } from "../helpers/service.js";
import { runSequin, spawnSequin } from "./sequin-process.js";

const listening = /^listening on (http:\/\/\S+)$/m;
const shownOnce = /^admin API token \(shown once\): (sqn_\S+)$/m;

/** A port some other program listens on. */
async function takenPort(): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return (server.address() as { port: number }).port;
}

async function accepted(url: string, token: string): Promise<number> {
  return (await apiClient(url, token)("GET", "/v1/syncs")).status;
}

async function tokenCreate(env: Record<string, string>): Promise<string> {
  const created = await runSequin(["token", "create"], env, undefined, undefined, 60_000);
  assert.equal(created.code, 0, created.stderr);
  assert.match(created.stdout, /^sqn_[A-Za-z0-9_-]{43}\n$/, "the token alone on its line");
  return created.stdout.trim();
}

test("embedded store: a first start on a taken port keeps the token for the next start; token create works stopped and running", async () => {
  const dir = await tempDataDir("sequin-token-");
  const env = { SEQUIN_DATA_DIR: dir };

  const failed = await runSequin(
    ["start"],
    { ...env, SEQUIN_PORT: String(await takenPort()) },
    undefined,
    undefined,
    60_000,
  );
  assert.equal(failed.code, 1, failed.stderr);
  assert.match(failed.stderr, /127\.0\.0\.1:\d+ is in use by another program: stop it, or set SEQUIN_PORT/);
  assert.doesNotMatch(failed.stdout, /token/);

  const first = spawnSequin(["start"], { ...env, SEQUIN_PORT: "0" });
  const [, url] = await first.waitForOutput(listening, 60_000);
  const [, token] = await first.waitForOutput(shownOnce);
  assert.equal(await accepted(url!, token!), 200);
  assert.equal(await accepted(url!, `sqn_${randomBytes(32).toString("base64url")}`), 401);

  // while the service runs: through the store it runs
  const whileRunning = await tokenCreate(env);
  assert.equal(await accepted(url!, whileRunning), 200, "the running service accepts it at once");
  assert.deepEqual(await first.stop(), { code: 0, signal: null }, first.stderr());

  // with the service stopped: the embedded store starts for a moment
  const whileStopped = await tokenCreate(env);
  assert.equal(existsSync(join(dir, "sequin.lock")), false, "the data directory is free again");
  const second = spawnSequin(["start"], { ...env, SEQUIN_PORT: "0" });
  const [, secondUrl] = await second.waitForOutput(listening, 60_000);
  assert.doesNotMatch(second.stdout(), /admin API token/, "a token exists: none is generated");
  for (const each of [token!, whileRunning, whileStopped])
    assert.equal(await accepted(secondUrl!, each), 200);
  assert.deepEqual(await second.stop(), { code: 0, signal: null }, second.stderr());
});

test("SEQUIN_DATABASE_URL: a first start on a taken port keeps the token; token create works alongside a running service", async () => {
  const store = await createTestStore();
  const env = {
    SEQUIN_DATABASE_URL: store.url,
    SEQUIN_VAULT_KEY: randomBytes(32).toString("base64"),
    SEQUIN_DATA_DIR: await tempDataDir("sequin-token-"),
  };

  const failed = await runSequin(["start"], { ...env, SEQUIN_PORT: String(await takenPort()) });
  assert.equal(failed.code, 1, failed.stderr);
  assert.doesNotMatch(failed.stdout, /token/);
  const { rows } = await store.pool.query("select count(*)::int as n from sequin_api_tokens");
  assert.equal(rows[0].n, 0, "no token was used up");

  const running = spawnSequin(["start"], { ...env, SEQUIN_PORT: "0" });
  const [, url] = await running.waitForOutput(listening);
  const [, token] = await running.waitForOutput(shownOnce);
  assert.equal(await accepted(url!, token!), 200);

  const created = await tokenCreate({ SEQUIN_DATABASE_URL: store.url });
  assert.notEqual(created, token);
  assert.equal(await accepted(url!, created), 200, "the running service accepts it at once");
  const stored = await store.pool.query("select name from sequin_api_tokens order by inserted_at");
  assert.deepEqual(
    stored.rows.map((r) => r.name),
    ["admin (generated at first start)", "admin (sequin token create)"],
  );
  assert.deepEqual(await running.stop(), { code: 0, signal: null }, running.stderr());
});
