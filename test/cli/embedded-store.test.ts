import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { loadConfig } from "../../src/config.js";
import { openStore } from "../../src/db/store.js";
import { apiClient } from "../helpers/service.js";
import { spawnSequin } from "./sequin-process.js";

const quiet = { info: () => {} };

async function dataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "sequin-data-"));
  after(async () => {
    // a test that failed half-way may leave the embedded server running
    const pidFile = join(dir, "pg", "pgdata", "postmaster.pid");
    if (existsSync(pidFile)) {
      const pid = Number(readFileSync(pidFile, "utf8").split("\n")[0]);
      try {
        process.kill(pid, "SIGQUIT");
      } catch {}
    }
    await rm(dir, { recursive: true, force: true });
  });
  return dir;
}

function configFor(dir: string) {
  return loadConfig({ SEQUIN_DATA_DIR: dir, SEQUIN_LOG_LEVEL: "silent" });
}

test("an embedded store: one process at a time, reopened after close, data kept", async () => {
  const dir = await dataDir();
  const config = configFor(dir);
  const first = await openStore(config, quiet);
  try {
    assert.equal(first.embedded, true);
    assert.equal(readFileSync(join(dir, "sequin.lock"), "utf8").trim(), String(process.pid));
    await assert.rejects(openStore(config, quiet), (error: Error) => {
      assert.equal(
        error.message,
        `data directory ${dir} is in use by process ${process.pid}: two processes must not share one embedded store; stop it or set SEQUIN_DATA_DIR`,
      );
      return true;
    });
    await first.pool.query("insert into sequin_settings (key, value) values ('kept', '42')");
  } finally {
    await first.close();
  }
  assert.equal(existsSync(join(dir, "sequin.lock")), false, "close releases the lock");

  const second = await openStore(config, quiet);
  try {
    const { rows } = await second.pool.query("select value from sequin_settings where key = 'kept'");
    assert.deepEqual(rows, [{ value: 42 }]);
  } finally {
    await second.close();
  }
});

test("a lock left by a dead process is taken over", async () => {
  const dir = await dataDir();
  const dead = spawnSync(process.execPath, ["-e", "process.pid"]).pid!;
  await writeFile(join(dir, "sequin.lock"), `${dead}\n`);
  const store = await openStore(configFor(dir), quiet);
  try {
    assert.equal(readFileSync(join(dir, "sequin.lock"), "utf8").trim(), String(process.pid));
    await store.pool.query("select 1");
  } finally {
    await store.close();
  }
});

test("sequin start on the embedded store: token shown once, a second process refused, kill -9 loses nothing", async () => {
  const dir = await dataDir();
  const env = { SEQUIN_DATA_DIR: dir, SEQUIN_PORT: "0" };
  const listening = /^listening on (http:\/\/\S+)$/m;

  const first = spawnSequin(["start"], env);
  const [, url] = await first.waitForOutput(listening, 60_000);
  const [, token] = await first.waitForOutput(/^admin API token \(shown once\): (sqn_\S+)$/m);
  assert.ok(!first.stderr().includes(token!), "the token is not logged");

  const rival = spawnSequin(["start"], { ...env });
  const rivalExit = await rival.exited;
  assert.equal(rivalExit.code, 1);
  assert.match(rival.stderr(), /data directory .* is in use by process \d+: two processes must not share/);

  const request = apiClient(url!, token);
  const sync = await request("POST", "/v1/syncs", { body: { name: "embedded", provider: "p" } });
  assert.equal(sync.status, 201);
  const records = Array.from({ length: 200 }, (_, i) => ({
    collection_id: "c",
    upstream_id: String(i),
    payload: { i },
    upstream_updated_at: "2024-01-01T00:00:00Z",
  }));
  const ingest = await request("POST", `/v1/syncs/${sync.body.id}/records`, { body: { records } });
  assert.equal(ingest.status, 200);
  assert.equal(ingest.body.accepted, 200);
  await first.stop("SIGKILL");

  const second = spawnSequin(["start"], env);
  const [, secondUrl] = await second.waitForOutput(listening, 60_000);
  assert.doesNotMatch(second.stdout(), /admin API token/, "the token is shown only once");
  const again = apiClient(secondUrl!, token);
  const stored = await again("GET", `/v1/syncs/${sync.body.id}/records?limit=1000`);
  assert.equal(stored.status, 200);
  assert.deepEqual(
    stored.body.data
      .map((r: { upstream_id: string }) => Number(r.upstream_id))
      .sort((a: number, b: number) => a - b),
    records.map((_, i) => i),
  );
  assert.deepEqual(await second.stop(), { code: 0, signal: null });
  assert.equal(existsSync(join(dir, "sequin.lock")), false);
  assert.equal(existsSync(join(dir, "pg", "pgdata", "postmaster.pid")), false, "the embedded server stopped");
});
