/**
 * Alerts reach a real SMTP server and a real webhook receiver exactly once when a consumer becomes
 * unhealthy and once when it recovers: for a target outage, and for lag past the threshold (the target
 * table held under a lock). A failing webhook is retried without holding up anything.
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
  SEQUIN_ALERT_SETTLE_SECONDS: "0",
  SEQUIN_LAG_ALERT_SECONDS: "2",
});

async function ok(service: TestService, method: string, path: string, body?: unknown) {
  const response = await service.request(method, path, body === undefined ? {} : { body });
  assert.ok(response.status < 300, `${method} ${path}: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body;
}

async function liveConsumer(name: string, db: TargetDatabase, provider: string) {
  const target = await ok(api, "POST", "/v1/targets/postgres", {
    name: `target-${name}`,
    connection: {
      host: db.host,
      port: db.port,
      database: db.database,
      username: db.user,
      password: db.password,
      ssl: "disable",
    },
  });
  const consumer = await ok(api, "POST", "/v1/consumers/postgres", {
    name,
    target_id: target.id,
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
const hooksAbout = (name: string) => webhook.received.filter((r) => r.json.consumer.name === name);

test("a target outage: one alert when unhealthy, one on recovery, by email and webhook", async () => {
  const db = await createSeedTarget(cluster.url());
  const id = await liveConsumer("outage-alerts", db, "hubspot");
  webhook.failNext(1); // the first delivery fails and must be retried

  await cluster.stop();
  await waitFor("the unhealthy alert by email", () => mailsAbout("outage-alerts").length === 1, 30_000);
  await waitFor(
    "the unhealthy webhook, after a retry",
    () => hooksAbout("outage-alerts").length === 1,
    30_000,
  );
  const mail = mailsAbout("outage-alerts")[0]!;
  assert.equal(mail.subject, '[sequin] consumer "outage-alerts" is unhealthy');
  assert.deepEqual(
    (Array.isArray(mail.to) ? mail.to : [mail.to]).flatMap((t) => t?.value.map((v) => v.address)),
    ["oncall@example.com", "team@example.com"],
  );
  assert.match(mail.text ?? "", /waiting_for_target/);
  assert.match(mail.text ?? "", /target "target-outage-alerts"/);
  const hook = hooksAbout("outage-alerts")[0]!;
  assert.equal(hook.json.event, "consumer.unhealthy");
  assert.equal(hook.json.consumer.health.status, "unhealthy");
  assert.equal(hook.signature, `sha256=${createHmac("sha256", secret).update(hook.body).digest("hex")}`);
  assert.ok(webhook.failed >= 1, "the first webhook delivery was refused and retried");

  await cluster.start();
  await waitFor(
    "the recovery alerts",
    () => mailsAbout("outage-alerts").length === 2 && hooksAbout("outage-alerts").length === 2,
    30_000,
  );
  assert.equal(mailsAbout("outage-alerts")[1]!.subject, '[sequin] consumer "outage-alerts" recovered');
  assert.equal(hooksAbout("outage-alerts")[1]!.json.event, "consumer.recovered");
  assert.equal((await ok(api, "GET", `/v1/consumers/postgres/${id}`)).health.status, "healthy");

  // no storm: a few more health rounds add nothing
  await sleep(4500);
  assert.equal(mailsAbout("outage-alerts").length, 2);
  assert.equal(hooksAbout("outage-alerts").length, 2);
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
