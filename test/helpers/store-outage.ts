/**
 * The service's own store stopped for a while under ingest, with `sequin start` running as a process of its
 * own and a live consumer: checks what users see during the outage (503 store_unavailable, promptly, the
 * process up) and after it (the consumer resumes by itself, nothing lost, no target blamed).
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import type { PostgresCluster } from "../../src/db/postgres-cluster.js";
import { type SequinProcess, spawnSequin } from "../cli/sequin-process.js";
import { startWebhookReceiver, type WebhookReceiver } from "./alert-receivers.js";
import { onCleanup } from "./cleanup.js";
import { startOwnCluster } from "./clusters.js";
import { createSeedTarget, tableMatchesStream } from "./consumer-world.js";
import { apiClient } from "./service.js";
import { waitFor } from "./wait.js";

interface TimedAnswer {
  route: string;
  status: number;
  code: string | undefined;
  ms: number;
}

export async function storeOutageScenario(outageMs: number): Promise<void> {
  const store = await startOwnCluster();
  const webhook = await startWebhookReceiver();
  const token = `test_${randomBytes(16).toString("hex")}`;
  const sequin = spawnSequin(["start"], {
    SEQUIN_DATABASE_URL: store.url(),
    SEQUIN_PORT: "0",
    SEQUIN_API_TOKEN: token,
    SEQUIN_VAULT_KEY: randomBytes(32).toString("base64"),
    SEQUIN_LEASE_SECONDS: "5",
    SEQUIN_ALERT_SETTLE_SECONDS: "1",
    SEQUIN_ALERT_WEBHOOK_URL: webhook.url,
    SEQUIN_LOG_LEVEL: "info",
  });
  const [, url] = await sequin.waitForOutput(/listening on (\S+)/, 60_000);
  try {
    await outageUnderIngest(sequin, apiClient(url as string, token), store, webhook, outageMs);
  } catch (error) {
    (error as Error).message += `\nservice log:\n${sequin.stderr().slice(-6000)}`;
    throw error;
  }
  assert.equal((await sequin.stop("SIGTERM")).code, 0);
}

async function outageUnderIngest(
  sequin: SequinProcess,
  api: ReturnType<typeof apiClient>,
  store: PostgresCluster,
  webhook: WebhookReceiver,
  outageMs: number,
): Promise<void> {
  const target = await createSeedTarget();

  const sync = await api("POST", "/v1/syncs", { body: { name: "outage", provider: "hubspot" } });
  assert.equal(sync.status, 201, JSON.stringify(sync.body));
  const registered = await api("POST", "/v1/targets/postgres", {
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
  const created = await api("POST", "/v1/consumers/postgres", {
    body: {
      name: "outage",
      target_id: registered.body.id,
      filter: { provider: "hubspot" },
      table: { schema: target.schema, name: "records" },
    },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  await target.admin.query(created.body.create_table_sql);
  await target.admin.query(`grant all on all tables in schema ${target.schema} to ${target.user}`);
  const consumerId = created.body.id as string;
  const started = await api("POST", `/v1/consumers/postgres/${consumerId}/start`);
  assert.equal(started.status, 200, JSON.stringify(started.body));

  // ingest goes on all along: one record per request, each a new version of one of 500 keys
  let ingesting = true;
  let accepted = 0;
  let refused = 0;
  let n = 0;
  const ingestLoop = (async () => {
    while (ingesting) {
      n++;
      const answer = await api("POST", `/v1/syncs/${sync.body.id}/records`, {
        body: {
          records: [
            {
              collection_id: "contact",
              upstream_id: String(n % 500),
              payload: { n },
              upstream_updated_at: new Date(Date.UTC(2024, 0, 1) + n).toISOString(),
            },
          ],
        },
      }).catch((error: Error) => ({ status: 0, body: `${error.message}: ${String(error.cause)}` }));
      if (answer.status === 200) accepted++;
      else {
        refused++;
        assert.equal(answer.status, 503, `${JSON.stringify(answer.body)}\n${sequin.stderr().slice(-3000)}`);
        await sleep(100);
      }
      await sleep(10);
    }
  })();
  const consumer = async () => (await api("GET", `/v1/consumers/postgres/${consumerId}`)).body;
  await waitFor("the consumer live", async () => (await consumer()).state === "live", 30_000);
  await waitFor("some records applied", async () => (await consumer()).stats.upserted > 50, 30_000);

  // the outage: every store-backed route answers 503 store_unavailable promptly, the process stays up
  await store.stop();
  const outageEnds = Date.now() + outageMs;
  const answers: TimedAnswer[] = [];
  const routes: [string, string][] = [
    ["GET", "/health"],
    ["GET", "/v1/consumers/postgres"],
    ["GET", `/v1/consumers/postgres/${consumerId}`],
    ["GET", "/v1/syncs"],
    ["GET", "/v1/targets/postgres"],
    ["POST", `/v1/consumers/postgres/${consumerId}/pause`],
  ];
  while (Date.now() < outageEnds - 1000) {
    for (const [method, route] of routes) {
      const began = Date.now();
      const answer = await api(method, route);
      answers.push({
        route: `${method} ${route}`,
        status: answer.status,
        code: answer.body?.code,
        ms: Date.now() - began,
      });
    }
    await sleep(Math.min(2000, Math.max(0, outageEnds - Date.now() - 1000)));
  }
  assert.equal(
    sequin.child.exitCode,
    null,
    `the process exited during the outage: ${sequin.stderr().slice(-2000)}`,
  );
  const wrong = answers.filter((a) => a.status !== 503 || a.code !== "store_unavailable" || a.ms >= 5000);
  assert.deepEqual(wrong, [], "every store-backed route answers 503 store_unavailable within 5 s");
  await sleep(Math.max(0, outageEnds - Date.now()));
  await store.start();
  const back = Date.now();

  // resumes within 10 s of the store's return: a record ingested now reaches the target
  const marker = await waitFor(
    "ingest accepted again",
    async () => {
      const answer = await api("POST", `/v1/syncs/${sync.body.id}/records`, {
        body: {
          records: [
            {
              collection_id: "contact",
              upstream_id: "after-the-outage",
              payload: { back: true },
              upstream_updated_at: new Date().toISOString(),
            },
          ],
        },
      });
      return answer.status === 200 ? answer : undefined;
    },
    10_000,
  );
  assert.equal(marker.body.accepted, 1);
  await waitFor(
    "the record ingested after the outage in the target",
    async () =>
      (
        await target.admin.query(
          `select 1 from ${target.schema}.records where upstream_id = 'after-the-outage'`,
        )
      ).rowCount === 1,
    Math.max(1000, 10_000 - (Date.now() - back)),
  );

  ingesting = false;
  await ingestLoop;
  assert.ok(accepted >= 20 && refused > 0, `accepted ${accepted}, refused ${refused}`);
  await waitFor(
    "caught up",
    async () => {
      const c = await consumer();
      return c.lag.records === 0 && c.state === "live" ? c : undefined;
    },
    30_000,
  );
  const storePool = new pg.Pool({ connectionString: store.url(), max: 2 });
  onCleanup(() => storePool.end());
  assert.deepEqual(
    await tableMatchesStream(storePool, target.admin, `${target.schema}.records`, { provider: "hubspot" }),
    { missing: [], extra: [], stale: [] },
  );

  // the store was down, not the target: nothing says otherwise
  const after = await consumer();
  assert.equal(after.health.status, "healthy", JSON.stringify(after.health));
  const events = (await api("GET", `/v1/consumers/postgres/${consumerId}/events`)).body;
  const states = (events?.data ?? []).map((e: { to_state: string }) => e.to_state);
  assert.ok(!states.includes("waiting_for_target"), `events: ${states.join(" → ")}`);
  const notes = (events?.data ?? []).map((e: { note: string | null }) => e.note ?? "");
  assert.ok(
    notes.some((note: string) => /^the service's store was unreachable from \S+ for \d+ s/.test(note)),
    `the outage is in the consumer's events: ${JSON.stringify(notes)}`,
  );
  const blamed = sequin
    .stderr()
    .split("\n")
    .filter((line) => /target probe failed|target unreachable/.test(line));
  assert.deepEqual(blamed, [], "no log line blames a target for the store");
  assert.ok(
    sequin.stderr().includes("the service's store is unreachable"),
    "the log says the store is unreachable",
  );
  const unhealthyAlerts = webhook.received.filter((r) => r.json.entity.status === "unhealthy");
  assert.deepEqual(
    unhealthyAlerts.map((r) => r.body),
    [],
    "no alert blames the target for the store",
  );
}
