import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { test } from "node:test";
import { createSeedTarget, tableMatchesStream } from "../helpers/consumer-world.js";
import { createTestStore } from "../helpers/database.js";
import { apiClient, testToken } from "../helpers/service.js";
import { waitFor } from "../helpers/wait.js";
import { runSequin, spawnSequin } from "./sequin-process.js";

const listening = /^listening on (http:\/\/\S+)$/m;

test("--help works for the program and each command, from any directory", async () => {
  const help = await runSequin(["--help"], {}, tmpdir());
  assert.equal(help.code, 0, help.stderr);
  assert.match(help.stdout, /Usage: sequin/);
  assert.match(help.stdout, /\bstart\b/);

  const start = await runSequin(["start", "--help"], {}, tmpdir());
  assert.equal(start.code, 0, start.stderr);
  assert.match(start.stdout, /Usage: sequin start/);
  for (const command of ["status", "sql", "demo"]) assert.match(help.stdout, new RegExp(`\\b${command}\\b`));

  const version = await runSequin(["version"]);
  assert.equal(version.code, 0);
  assert.match(version.stdout, /^sequin \d+\.\d+\.\d+/);
});

test("start: invalid environment → exit 2 naming the variable, rule and value", async () => {
  const result = await runSequin(["start"], { SEQUIN_PORT: "99999", SEQUIN_LOG_LEVEL: "loud" });
  assert.equal(result.code, 2);
  assert.match(result.stderr, /SEQUIN_PORT must be a whole number from 0 to 65535 \(got "99999"\)/);
  assert.match(result.stderr, /SEQUIN_LOG_LEVEL/);
  assert.equal(result.stdout, "");
});

test("start: prints where it listens, answers /health, stops on SIGTERM and on SIGINT with exit 0", async () => {
  const store = await createTestStore();
  const token = testToken();
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    const sequin = spawnSequin(["start"], {
      SEQUIN_DATABASE_URL: store.url,
      SEQUIN_PORT: "0",
      SEQUIN_API_TOKEN: token,
    });
    const [, url] = await sequin.waitForOutput(listening);
    const request = apiClient(url!, token);
    const health = await request("GET", "/health", { token: null });
    assert.deepEqual([health.status, health.body], [200, { status: "ok" }]);
    assert.equal((await request("GET", "/v1/syncs")).status, 200);
    assert.doesNotMatch(sequin.stdout(), /token/, "no token is generated when SEQUIN_API_TOKEN is set");

    const exit = await sequin.stop(signal);
    assert.deepEqual(exit, { code: 0, signal: null }, sequin.stderr());
    for (const line of sequin.stderr().trim().split("\n")) {
      assert.doesNotThrow(() => JSON.parse(line), `stderr holds JSON log lines only: ${line}`);
    }
    assert.ok(!sequin.stderr().includes(token), "the token is not logged");
  }
});

test("start: records acknowledged with 200 survive kill -9", async () => {
  const store = await createTestStore();
  const token = testToken();
  const env = { SEQUIN_DATABASE_URL: store.url, SEQUIN_PORT: "0", SEQUIN_API_TOKEN: token };

  const first = spawnSequin(["start"], env);
  const [, firstUrl] = await first.waitForOutput(listening);
  const before = apiClient(firstUrl!, token);
  const sync = await before("POST", "/v1/syncs", { body: { name: "durable", provider: "hubspot" } });
  assert.equal(sync.status, 201);
  const records = Array.from({ length: 500 }, (_, i) => ({
    collection_id: i % 2 ? "contact" : "deal",
    upstream_id: String(i),
    payload: { i, text: "x".repeat(200) },
    upstream_updated_at: new Date(Date.UTC(2024, 0, 1, 0, 0, i)).toISOString(),
  }));
  for (let i = 0; i < records.length; i += 100) {
    const ingest = await before("POST", `/v1/syncs/${sync.body.id}/records`, {
      body: { records: records.slice(i, i + 100) },
    });
    assert.equal(ingest.status, 200);
    assert.equal(ingest.body.accepted, 100);
  }
  assert.equal((await first.stop("SIGKILL")).signal, "SIGKILL");

  const second = spawnSequin(["start"], env);
  const [, secondUrl] = await second.waitForOutput(listening);
  const after = apiClient(secondUrl!, token);
  const stored = await after("GET", `/v1/syncs/${sync.body.id}/records?limit=1000`);
  assert.equal(stored.status, 200);
  const byId = new Map(stored.body.data.map((r: { upstream_id: string }) => [r.upstream_id, r]));
  assert.equal(byId.size, records.length);
  for (const record of records) {
    const got = byId.get(record.upstream_id) as { payload: unknown; collection_id: string; deleted: boolean };
    assert.deepEqual(got.payload, record.payload);
    assert.equal(got.collection_id, record.collection_id);
    assert.equal(got.deleted, false);
  }
  assert.equal((await second.stop()).code, 0);
});

test("start: a SEQUIN_VAULT_KEY that does not match the store's → exit 2 naming the variable", async () => {
  const store = await createTestStore();
  const env = { SEQUIN_DATABASE_URL: store.url, SEQUIN_PORT: "0", SEQUIN_API_TOKEN: testToken() };
  const first = spawnSequin(["start"], { ...env, SEQUIN_VAULT_KEY: randomBytes(32).toString("base64") });
  await first.waitForOutput(listening);
  assert.equal((await first.stop()).code, 0);

  const other = await runSequin(["start"], { ...env, SEQUIN_VAULT_KEY: randomBytes(32).toString("base64") });
  assert.equal(other.code, 2, other.stderr);
  assert.match(
    other.stderr,
    /SEQUIN_VAULT_KEY does not match the key that encrypted this store's credentials/,
  );
  assert.equal(other.stdout, "");
});

test("start: SIGTERM just after a consumer started its backfill → exit 0; after a restart the table equals the stream", async () => {
  const store = await createTestStore();
  const target = await createSeedTarget();
  const token = testToken();
  const env = {
    SEQUIN_DATABASE_URL: store.url,
    SEQUIN_PORT: "0",
    SEQUIN_API_TOKEN: token,
    SEQUIN_VAULT_KEY: randomBytes(32).toString("base64"),
  };
  const first = spawnSequin(["start"], env);
  const [, url] = await first.waitForOutput(listening);
  const request = apiClient(url!, token);
  const sync = await request("POST", "/v1/syncs", { body: { name: "backfilled", provider: "hubspot" } });
  for (let from = 0; from < 20_000; from += 2000) {
    const records = Array.from({ length: 2000 }, (_, k) => ({
      collection_id: "contact",
      upstream_id: String(from + k),
      payload: { n: from + k, text: "x".repeat(100) },
      upstream_updated_at: "2024-01-01T00:00:00Z",
    }));
    assert.equal(
      (await request("POST", `/v1/syncs/${sync.body.id}/records`, { body: { records } })).status,
      200,
    );
  }
  const registered = await request("POST", "/v1/targets/postgres", {
    body: {
      name: "app",
      connection: {
        host: target.host,
        port: target.port,
        database: target.database,
        username: target.user,
        password: target.password,
        ssl: "disable",
      },
    },
  });
  assert.equal(registered.status, 201, JSON.stringify(registered.body));
  const consumer = await request("POST", "/v1/consumers/postgres", {
    body: {
      name: "interrupted",
      target_id: registered.body.id,
      filter: { provider: "hubspot" },
      table: { schema: target.schema, name: "records" },
    },
  });
  await target.admin.query(consumer.body.create_table_sql);
  const started = await request("POST", `/v1/consumers/postgres/${consumer.body.id}/start`);
  assert.equal(started.status, 200, JSON.stringify(started.body));
  assert.deepEqual(await first.stop("SIGTERM"), { code: 0, signal: null }, first.stderr());

  const second = spawnSequin(["start"], env);
  const [, secondUrl] = await second.waitForOutput(listening);
  const again = apiClient(secondUrl!, token);
  await waitFor("the consumer to catch up after the restart", async () => {
    const c = await again("GET", `/v1/consumers/postgres/${consumer.body.id}`);
    return c.body.state === "live" && c.body.lag.records === 0;
  });
  assert.deepEqual(
    await tableMatchesStream(store.pool, target.admin, `${target.schema}.records`, { provider: "hubspot" }),
    {
      missing: [],
      extra: [],
      stale: [],
    },
  );
  const final = await again("GET", `/v1/consumers/postgres/${consumer.body.id}`);
  assert.equal(final.body.stats.upserted, 20_000, "no batch was counted twice or lost");
  assert.equal((await second.stop()).code, 0);
});
