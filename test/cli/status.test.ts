import assert from "node:assert/strict";
import { createServer } from "node:net";
import { test } from "node:test";
import pg from "pg";
import { onCleanup } from "../helpers/cleanup.js";
import { createSeedTarget } from "../helpers/consumer-world.js";
import { startTestService } from "../helpers/service.js";
import { waitFor } from "../helpers/wait.js";
import { runSequin } from "./sequin-process.js";

const api = await startTestService();
const target = await createSeedTarget();
const env = { SEQUIN_URL: api.url, SEQUIN_API_TOKEN: api.token };

async function ok(method: string, path: string, body?: unknown) {
  const response = await api.request(method, path, body === undefined ? {} : { body });
  assert.ok(response.status < 300, `${method} ${path}: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body;
}

function records(from: number, count: number) {
  return Array.from({ length: count }, (_, k) => ({
    collection_id: "contact",
    upstream_id: String(from + k),
    payload: { n: from + k },
    upstream_updated_at: "2024-01-01T00:00:00Z",
  }));
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const asSeedUser = new pg.Client({
  host: target.host,
  port: target.port,
  database: target.database,
  user: target.user,
  password: target.password,
});
await asSeedUser.connect();
onCleanup(() => asSeedUser.end());

const sync = await ok("POST", "/v1/syncs", { name: "status-sync", provider: "hubspot" });
await ok("POST", `/v1/syncs/${sync.id}/records`, { records: records(0, 50) });
const registered = await ok("POST", "/v1/targets/postgres", {
  name: "status-target",
  connection: {
    host: target.host,
    port: target.port,
    database: target.database,
    username: target.user,
    password: target.password,
    ssl: "disable",
  },
});

async function startConsumer(name: string) {
  const consumer = await ok("POST", "/v1/consumers/postgres", {
    name,
    target_id: registered.id,
    filter: { provider: "hubspot" },
    table: { schema: target.schema, name },
  });
  await asSeedUser.query(consumer.create_table_sql);
  await ok("POST", `/v1/consumers/postgres/${consumer.id}/start`);
  return consumer.id as string;
}

const steady = await startConsumer("steady");
const doomed = await startConsumer("doomed");

test("status: every consumer healthy → a table and exit 0; --json prints the API's answer", async () => {
  for (const id of [steady, doomed]) {
    await waitFor("the consumer to go live", async () => {
      const c = await ok("GET", `/v1/consumers/postgres/${id}`);
      return c.state === "live" && c.stats.upserted === 50;
    });
  }
  const status = await runSequin(["status"], env);
  assert.equal(status.code, 0, status.stderr);
  const lines = status.stdout.split("\n");
  assert.match(lines[0]!, /^NAME\s+STATE\s+HEALTH\s+LAG RECORDS\s+LAG SECONDS\s+UPSERTED\s+DELETED\s+NOTE$/);
  assert.ok(
    lines.some((l) => /^steady\s+live\s+healthy\s+0\s+0\.0\s+50\s+0$/.test(l)),
    status.stdout,
  );
  assert.ok(lines.some((l) => /^doomed\s+live\s+healthy\b/.test(l)));
  assert.match(status.stdout, /2 consumers: 2 healthy, 0 unhealthy/);
  // the syncs follow: one whose records are pushed has no source to show, and is not unhealthy
  assert.ok(
    lines.some((l) =>
      /^status-sync\s+hubspot\s+-\s+-\s+-\s+-\s+-\s+No source: records are pushed to it\.$/.test(l),
    ),
    status.stdout,
  );
  assert.match(status.stdout, /^1 sync: 0 unhealthy, 1 without a source$/m);

  const json = await runSequin(["status", "--json"], env);
  assert.equal(json.code, 0, json.stderr);
  const body = JSON.parse(json.stdout);
  assert.deepEqual(body.data.map((c: { name: string }) => c.name).sort(), ["doomed", "steady"]);
  assert.deepEqual(
    body.syncs.map((s: { name: string }) => s.name),
    ["status-sync"],
  );
  assert.ok(!json.stdout.includes(target.password));
});

test("status: a consumer not started yet is shown as such with its lag, even past the lag threshold; exit 0", async () => {
  const idle = await ok("POST", "/v1/consumers/postgres", {
    name: "idle",
    target_id: registered.id,
    filter: { provider: "hubspot" },
    table: { schema: target.schema, name: "idle" },
  });
  await ok("PATCH", `/v1/consumers/postgres/${idle.id}`, { lag_alert_seconds: 1 });
  await waitFor("the changes waiting for it to be older than its threshold", async () => {
    const c = await ok("GET", `/v1/consumers/postgres/${idle.id}`);
    return c.state === "inactive" && c.lag.records === 50 && c.lag.seconds > 1;
  });

  const status = await runSequin(["status"], env);
  assert.equal(status.code, 0, status.stderr);
  const line = status.stdout.split("\n").find((l) => l.startsWith("idle"));
  assert.match(
    line ?? status.stdout,
    /^idle\s+not started\s+-\s+50\s+\d+\.\d\s+0\s+0\s+Not started yet: verify its table, then start it\.$/,
  );
  assert.match(status.stdout, /3 consumers: 2 healthy, 0 unhealthy, 1 not started/);
  await ok("DELETE", `/v1/consumers/postgres/${idle.id}`);
});

test("status: without SEQUIN_URL, the server where SEQUIN_HOST and SEQUIN_PORT make start listen", async () => {
  const { port } = new URL(api.url);
  for (const host of [undefined, "127.0.0.1", "0.0.0.0"]) {
    const status = await runSequin(["status", "--json"], {
      SEQUIN_API_TOKEN: api.token,
      SEQUIN_PORT: port,
      ...(host ? { SEQUIN_HOST: host } : {}),
    });
    assert.equal(status.code, 0, `SEQUIN_HOST=${host}: ${status.stderr}`);
    assert.ok(JSON.parse(status.stdout).data.some((c: { name: string }) => c.name === "steady"));
  }

  const elsewhere = await closedPort();
  const unreachable = await runSequin(["status"], {
    SEQUIN_API_TOKEN: api.token,
    SEQUIN_PORT: String(elsewhere),
  });
  assert.equal(unreachable.code, 2);
  assert.match(
    unreachable.stderr,
    new RegExp(
      `cannot reach the server at http://127\\.0\\.0\\.1:${elsewhere} \\(SEQUIN_URL is not set: where SEQUIN_HOST and SEQUIN_PORT make`,
    ),
  );

  const anyPort = await runSequin(["status"], { SEQUIN_API_TOKEN: api.token, SEQUIN_PORT: "0" });
  assert.equal(anyPort.code, 2);
  assert.match(anyPort.stderr, /SEQUIN_URL is not set and SEQUIN_PORT=0 .*: set SEQUIN_URL/);
});

test("status: a consumer whose table was dropped is failing → its note is shown and exit 1", async () => {
  await asSeedUser.query(`drop table ${target.schema}.doomed`);
  await ok("POST", `/v1/syncs/${sync.id}/records`, { records: records(50, 1) });
  await waitFor("the consumer to fail", async () => {
    const c = await ok("GET", `/v1/consumers/postgres/${doomed}`);
    return c.state === "failing";
  });

  const status = await runSequin(["status"], env);
  assert.equal(status.code, 1, status.stderr);
  const line = status.stdout.split("\n").find((l) => l.startsWith("doomed"));
  assert.match(line ?? "", /^doomed\s+failing\s+unhealthy\s.*Failing since .*42P01/);
  assert.ok(status.stdout.split("\n").some((l) => /^steady\s+live\s+healthy\s/.test(l)));
  assert.match(status.stdout, /2 consumers: 1 healthy, 1 unhealthy/);

  const json = await runSequin(["status", "--json"], env);
  assert.equal(json.code, 1);
  const failing = JSON.parse(json.stdout).data.find((c: { name: string }) => c.name === "doomed");
  assert.equal(failing.health.status, "unhealthy");
});

test("status: a server that cannot be reached, a wrong or missing token → exit 2 naming SEQUIN_URL", async () => {
  const port = await closedPort();
  const unreachable = await runSequin(["status"], { ...env, SEQUIN_URL: `http://127.0.0.1:${port}` });
  assert.equal(unreachable.code, 2);
  assert.match(
    unreachable.stderr,
    new RegExp(`cannot reach the server at SEQUIN_URL=http://127\\.0\\.0\\.1:${port}`),
  );
  assert.equal(unreachable.stdout, "");

  const wrongToken = await runSequin(["status"], { ...env, SEQUIN_API_TOKEN: `${api.token}-wrong` });
  assert.equal(wrongToken.code, 2);
  assert.match(
    wrongToken.stderr,
    /SEQUIN_URL=http:\/\/127\.0\.0\.1:\d+ refused the token in SEQUIN_API_TOKEN/,
  );
  assert.ok(!wrongToken.stderr.includes(api.token), "the token is not echoed");

  const noToken = await runSequin(["status"], { SEQUIN_URL: api.url });
  assert.equal(noToken.code, 2);
  assert.match(noToken.stderr, /SEQUIN_API_TOKEN is not set/);

  const badUrl = await runSequin(["status"], { ...env, SEQUIN_URL: "ftp://files" });
  assert.equal(badUrl.code, 2);
  assert.match(badUrl.stderr, /SEQUIN_URL must be a URL starting with http:\/\/ or https:\/\//);
});
