/**
 * `sequin consumers backfill NAME [--wait]` rewrites a consumer's table from the stream (rows not in the
 * stream go); `sequin consumers retry NAME` is refused (exit 1) when there is nothing to retry; an unknown
 * name is a usage error (exit 2).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { createSeedTarget, tableMatchesStream } from "../helpers/consumer-world.js";
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

test("sequin consumers backfill --wait rewrites the table; retry on a live consumer exits 1; unknown names exit 2", async () => {
  const sync = await ok("POST", "/v1/syncs", { name: "cli-sync", provider: "cli" });
  const records = Array.from({ length: 300 }, (_, i) => ({
    collection_id: "contact",
    upstream_id: String(i),
    payload: { n: i },
    upstream_updated_at: "2024-01-01T00:00:00Z",
  }));
  await ok("POST", `/v1/syncs/${sync.id}/records`, { records });
  const registered = await ok("POST", "/v1/targets/postgres", {
    name: "cli-target",
    connection: {
      host: target.host,
      port: target.port,
      database: target.database,
      username: target.user,
      password: target.password,
      ssl: "disable",
    },
  });
  const consumer = await ok("POST", "/v1/consumers/postgres", {
    name: "cli-consumer",
    target_id: registered.id,
    filter: { provider: "cli" },
    table: { schema: target.schema, name: "cli_records" },
  });
  await target.admin.query(consumer.create_table_sql);
  await target.admin.query(`grant all on ${target.schema}.cli_records to ${target.user}`);
  await ok("POST", `/v1/consumers/postgres/${consumer.id}/start`);
  await waitFor("live and caught up", async () => {
    const c = await ok("GET", `/v1/consumers/postgres/${consumer.id}`);
    return c.state === "live" && c.lag.records === 0;
  });
  await target.admin.query(`delete from ${target.schema}.cli_records where upstream_id in ('1', '2', '3')`);
  await target.admin.query(
    `insert into ${target.schema}.cli_records values (gen_random_uuid(), $1, 'contact', 'stray', '{}', now(), now(), now())`,
    [sync.id],
  );

  const backfill = await runSequin(["consumers", "backfill", "cli-consumer", "--wait"], env);
  assert.equal(backfill.code, 0, backfill.stderr);
  assert.match(backfill.stdout, /rewriting its table from the stream \(300 records\)/);
  assert.match(backfill.stdout, /done: 300 records written again, 1 row no longer in the stream deleted/);
  assert.deepEqual(
    await tableMatchesStream(api.store.pool, target.admin, `${target.schema}.cli_records`, {
      provider: "cli",
    }),
    { missing: [], extra: [], stale: [] },
  );

  const retry = await runSequin(["consumers", "retry", "cli-consumer"], env);
  assert.equal(retry.code, 1, retry.stderr);
  assert.match(
    retry.stderr,
    /is live: only a failing consumer or one waiting for its target has something to retry/,
  );

  const unknown = await runSequin(["consumers", "retry", "nobody"], env);
  assert.equal(unknown.code, 2, unknown.stderr);
  assert.match(unknown.stderr, /no consumer is named "nobody".*cli-consumer/);
});
