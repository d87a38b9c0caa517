/**
 * Alerts reach a real SMTP server and a real webhook receiver exactly once when an entity becomes
 * unhealthy and once when it recovers: a target stopped (one alert for the target, naming its consumers,
 * none per consumer), and a consumer lagging past the threshold (the target table held under a lock). A
 * failing webhook is retried without holding up anything.
 */
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { startSmtpServer, startWebhookReceiver } from "../helpers/alert-receivers.js";
import { startOwnCluster } from "../helpers/clusters.js";
import { createSeedTarget, type TargetDatabase } from "../helpers/consumer-world.js";
import { startTestService, type TestService } from "../helpers/service.js";
import { waitFor } from "../helpers/wait.js";

const secret = "webhook-secret-for-tests";
const inbox = await startSmtpServer();
const webhook = await startWebhookReceiver();
const cluster = await startOwnCluster();
const api = await startTestService({
  SEQUIN_SMTP_URL: inbox.url,
  SEQUIN_ALERT_EMAIL_FROM: "sequin@example.com",
  SEQUIN_ALERT_EMAIL_TO: "oncall@example.com,team@example.com",
  SEQUIN_ALERT_WEBHOOK_URL: webhook.url,
  SEQUIN_ALERT_WEBHOOK_SECRET: secret,
  // long enough for every consumer of a stopped target to be found waiting (probes every 2 s)
  SEQUIN_ALERT_SETTLE_SECONDS: "4",
  SEQUIN_LAG_ALERT_SECONDS: "2",
});

async function ok(service: TestService, method: string, path: string, body?: unknown) {
  const response = await service.request(method, path, body === undefined ? {} : { body });
  assert.ok(response.status < 300, `${method} ${path}: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body;
}

async function createTarget(name: string, db: TargetDatabase): Promise<string> {
  const target = await ok(api, "POST", "/v1/targets/postgres", {
    name,
    connection: {
      host: db.host,
      port: db.port,
      database: db.database,
      username: db.user,
      password: db.password,
      ssl: "disable",
    },
  });
  return target.id;
}

async function liveConsumer(name: string, db: TargetDatabase, provider: string, targetId?: string) {
  const consumer = await ok(api, "POST", "/v1/consumers/postgres", {
    name,
    target_id: targetId ?? (await createTarget(`target-${name}`, db)),
    filter: { provider },
    table: { schema: db.schema, name },
  });
  await db.admin.query(consumer.create_table_sql);
  await db.admin.query(`grant all on all tables in schema ${db.schema} to ${db.user}`);
  await ok(api, "POST", `/v1/consumers/postgres/${consumer.id}/start`);
  await waitFor(
    "live",
    async () => (await ok(api, "GET", `/v1/consumers/postgres/${consumer.id}`)).state === "live",
  );
  return consumer.id as string;
}

const mailsAbout = (name: string) => inbox.messages.filter((m) => m.subject?.includes(`"${name}"`));
const hooksAbout = (name: string) => webhook.received.filter((r) => r.json.entity.name === name);

test("a target outage: one target alert naming its consumers when down, one on recovery, by email and webhook; none per consumer", async () => {
  const db = await createSeedTarget(cluster.url());
  const targetId = await createTarget("app-db", db);
  const names = ["outage-alerts", "outage-orders", "outage-tickets"];
  const ids = [
    await liveConsumer(names[0]!, db, "hubspot", targetId),
    await liveConsumer(names[1]!, db, "shopify", targetId),
    await liveConsumer(names[2]!, db, "zendesk", targetId),
  ];
  webhook.failNext(1); // the first delivery fails and must be retried

  await cluster.stop();
  await waitFor("the target's unhealthy alert by email", () => mailsAbout("app-db").length === 1, 30_000);
  await waitFor("the unhealthy webhook, after a retry", () => hooksAbout("app-db").length === 1, 30_000);
  const mail = mailsAbout("app-db")[0]!;
  assert.equal(mail.subject, '[sequin] target "app-db" is unhealthy');
  assert.deepEqual(
    (Array.isArray(mail.to) ? mail.to : [mail.to]).flatMap((t) => t?.value.map((v) => v.address)),
    ["oncall@example.com", "team@example.com"],
  );
  for (const name of names) assert.match(mail.text ?? "", new RegExp(`- ${name} \\(waiting_for_target\\)`));
  assert.match(mail.text ?? "", /failing: reachable \(target unreachable: /);
  assert.match(mail.text ?? "", /what ends it: Bring the server back/);
  const hook = hooksAbout("app-db")[0]!;
  assert.equal(hook.json.event, "target.unhealthy");
  assert.deepEqual(
    { kind: hook.json.entity.kind, id: hook.json.entity.id, status: hook.json.entity.status },
    { kind: "target", id: targetId, status: "unhealthy" },
  );
  assert.deepEqual(
    hook.json.entity.failing.map((f) => f.name),
    ["reachable"],
  );
  assert.ok(hook.json.entity.failing[0]!.fix.length > 0, "the failing check says what ends it");
  assert.deepEqual(
    hook.json.target!.consumers.map((c) => [c.id, c.name, c.state]).sort(),
    ids.map((id, i) => [id, names[i], "waiting_for_target"]).sort(),
  );
  assert.equal(hook.json.target!.health.status, "unhealthy");
  assert.equal(hook.signature, `sha256=${createHmac("sha256", secret).update(hook.body).digest("hex")}`);
  assert.ok(webhook.failed >= 1, "the first webhook delivery was refused and retried");

  // the consumers wait, unhealthy, but the target's alert spoke for them: said once, not once per consumer
  for (const id of ids)
    assert.equal((await ok(api, "GET", `/v1/consumers/postgres/${id}`)).health.status, "unhealthy");
  await sleep(4500);
  assert.equal(mailsAbout("app-db").length, 1);
  assert.equal(hooksAbout("app-db").length, 1);
  for (const name of names) {
    assert.equal(mailsAbout(name).length, 0, `no alert of ${name}'s own`);
    assert.equal(hooksAbout(name).length, 0, `no webhook of ${name}'s own`);
  }

  await cluster.start();
  // waiting consumers probe with a backoff that reaches 16 s in an outage this long, then the settle time
  await waitFor(
    "the recovery alerts",
    () => mailsAbout("app-db").length === 2 && hooksAbout("app-db").length === 2,
    60_000,
  );
  assert.equal(mailsAbout("app-db")[1]!.subject, '[sequin] target "app-db" recovered');
  const recovered = hooksAbout("app-db")[1]!;
  assert.equal(recovered.json.event, "target.recovered");
  assert.deepEqual(recovered.json.entity.failing, []);
  assert.equal(recovered.json.target!.health.status, "healthy");
  for (const id of ids)
    assert.equal((await ok(api, "GET", `/v1/consumers/postgres/${id}`)).health.status, "healthy");

  // no storm: a few more health rounds add nothing, and no consumer spoke for itself
  await sleep(4500);
  assert.equal(mailsAbout("app-db").length, 2);
  assert.equal(hooksAbout("app-db").length, 2);
  for (const name of names) assert.equal(mailsAbout(name).length + hooksAbout(name).length, 0);
});

test("lag past the threshold (a lock held on the table): unhealthy and alerted, then healthy again", async () => {
  const db = await createSeedTarget(cluster.url());
  const id = await liveConsumer("lagging", db, "stripe");
  const sync = await ok(api, "POST", "/v1/syncs", { name: "lag-sync", provider: "stripe" });

  const locker = await db.admin.connect();
  await locker.query("begin");
  await locker.query(`lock table ${db.schema}.lagging in access exclusive mode`);
  await ok(api, "POST", `/v1/syncs/${sync.id}/records`, {
    records: [
      {
        collection_id: "invoice",
        upstream_id: "in_1",
        payload: { total: 10 },
        upstream_updated_at: "2024-01-01T00:00:00Z",
      },
    ],
  });
  const lagging = await waitFor(
    "unhealthy by lag",
    async () => {
      const c = await ok(api, "GET", `/v1/consumers/postgres/${id}`);
      return c.health.status === "unhealthy" ? c : undefined;
    },
    30_000,
  );
  assert.equal(lagging.state, "live", "a slow target is not an unreachable one");
  assert.equal(lagging.lag.records, 1);
  assert.ok(lagging.lag.seconds > 2);
  const check = lagging.health.checks.find((c: { name: string }) => c.name === "lag_within_threshold");
  assert.equal(check.status, "unhealthy");
  await waitFor(
    "the lag alert",
    () => mailsAbout("lagging").length === 1 && hooksAbout("lagging").length === 1,
    30_000,
  );
  assert.match(mailsAbout("lagging")[0]!.text ?? "", /Behind: 1 change/);
  const hook = hooksAbout("lagging")[0]!;
  assert.deepEqual([hook.json.event, hook.json.entity.kind], ["consumer.unhealthy", "consumer"]);
  assert.deepEqual(
    hook.json.entity.failing.map((f) => f.name),
    ["lag_within_threshold"],
  );
  assert.equal(hook.json.consumer!.health.status, "unhealthy", "a consumer's alert keeps its own part");

  await locker.query("commit");
  locker.release();
  await waitFor(
    "healthy again",
    async () => (await ok(api, "GET", `/v1/consumers/postgres/${id}`)).health.status === "healthy",
  );
  await waitFor(
    "the recovery alert",
    () => mailsAbout("lagging").length === 2 && hooksAbout("lagging").length === 2,
    30_000,
  );
  const { rows } = await db.admin.query(`select count(*)::int as n from ${db.schema}.lagging`);
  assert.equal(rows[0].n, 1);
});

test("metrics: lag, state, records applied and batch latency in Prometheus text", async () => {
  const response = await fetch(`${api.url}/metrics`);
  assert.equal(response.status, 200);
  const text = await response.text();
  assert.match(text, /sequin_consumer_lag_records\{consumer="lagging"\} 0/);
  assert.match(text, /sequin_consumer_state\{consumer="lagging",state="live"\} 1/);
  assert.match(text, /sequin_records_applied_total\{consumer="lagging",kind="upserted"\} 1/);
  assert.match(text, /sequin_batch_duration_seconds_count\{consumer="lagging"\} \d+/);
  assert.match(
    text,
    /sequin_consumer_errors_total\{consumer="outage-alerts",kind="unreachable",sqlstate=""\} \d+/,
  );
  assert.match(text, /sequin_ingested_records_total\{result="accepted"\} 1/);
});
