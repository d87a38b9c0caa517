/**
 * Roles: an `api` process and two `worker` processes of `sequin start` on one store. The API and console
 * work through the api process; the consumers run on the workers (never on the api process), which answer
 * only /health and /metrics; GET /v1/workers lists the two workers and where each consumer runs.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import { spawnSequin } from "../cli/sequin-process.js";
import { createSeedTarget } from "../helpers/consumer-world.js";
import { createTestStore } from "../helpers/database.js";
import { apiClient, testToken } from "../helpers/service.js";
import { waitFor } from "../helpers/wait.js";

const listening = /^listening on (http:\/\/\S+)$/m;

test("an api process and two worker processes: the API answers on the api process, consumers run on the workers", async () => {
  const store = await createTestStore();
  const target = await createSeedTarget();
  const token = testToken();
  const env = {
    SEQUIN_DATABASE_URL: store.url,
    SEQUIN_PORT: "0",
    SEQUIN_API_TOKEN: token,
    SEQUIN_VAULT_KEY: randomBytes(32).toString("base64"),
    SEQUIN_LEASE_SECONDS: "3",
  };
  const api = spawnSequin(["start"], { ...env, SEQUIN_ROLE: "api" });
  const workers = [
    spawnSequin(["start"], { ...env, SEQUIN_ROLE: "worker" }),
    spawnSequin(["start"], { ...env, SEQUIN_ROLE: "worker" }),
  ];
  try {
    const [, apiUrl] = await api.waitForOutput(listening);
    const workerUrls = [];
    for (const w of workers) workerUrls.push((await w.waitForOutput(listening))[1]!);
    const request = apiClient(apiUrl!, token);

    // a worker answers /health and /metrics, and nothing of the API or the console
    for (const url of workerUrls) {
      const onWorker = apiClient(url, token);
      assert.equal((await onWorker("GET", "/health", { token: null })).status, 200);
      assert.equal((await onWorker("GET", "/metrics", { token: null })).status, 200);
      assert.equal((await onWorker("GET", "/v1/syncs")).status, 404);
      assert.equal((await onWorker("GET", "/v1/workers")).status, 404);
    }

    const sync = await request("POST", "/v1/syncs", { body: { name: "roles", provider: "hubspot" } });
    assert.equal(sync.status, 201);
    const syncId = (sync.body as { id: string }).id;
    const created = await request("POST", "/v1/targets/postgres", {
      body: {
        name: "roles-target",
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
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const targetId = (created.body as { id: string }).id;
    const consumerIds: string[] = [];
    for (let i = 0; i < 4; i++) {
      const consumer = await request("POST", "/v1/consumers/postgres", {
        body: {
          name: `roles-${i}`,
          target_id: targetId,
          filter: { sync_id: syncId },
          table: { schema: target.schema, name: `roles_${i}` },
        },
      });
      assert.equal(consumer.status, 201, JSON.stringify(consumer.body));
      const body = consumer.body as { id: string; create_table_sql: string; worker_id: string | null };
      assert.equal(body.worker_id, null, "not running anywhere yet");
      await target.admin.query(body.create_table_sql);
      await target.admin.query(`grant all on all tables in schema ${target.schema} to ${target.user}`);
      assert.equal((await request("POST", `/v1/consumers/postgres/${body.id}/start`)).status, 200);
      consumerIds.push(body.id);
    }
    const ingested = await request("POST", `/v1/syncs/${syncId}/records`, {
      body: {
        records: Array.from({ length: 50 }, (_, i) => ({
          collection_id: "contact",
          upstream_id: String(i),
          payload: { n: i },
          upstream_updated_at: "2024-01-01T00:00:00Z",
        })),
      },
    });
    assert.equal(ingested.status, 200);

    // two live workers, none of them the api process; every consumer runs on one of them, 2 and 2
    const listed = await waitFor("two workers running two consumers each", async () => {
      const answer = await request("GET", "/v1/workers");
      assert.equal(answer.status, 200);
      const data = (answer.body as { data: { id: string; pid: number; role: string; consumers: number }[] })
        .data;
      return data.length === 2 && data.every((w) => w.consumers === 2) ? data : false;
    });
    assert.deepEqual(
      listed.map((w) => w.pid).sort(),
      workers.map((w) => w.child.pid).sort(),
      "the workers are the two worker processes",
    );
    assert.ok(listed.every((w) => w.role === "worker"));
    for (const id of consumerIds) {
      const view = await waitFor(`consumer ${id} to be live with every record`, async () => {
        const answer = await request("GET", `/v1/consumers/postgres/${id}`);
        const body = answer.body as { state: string; lag: { records: number }; worker_id: string | null };
        return body.state === "live" && body.lag.records === 0 ? body : false;
      });
      assert.ok(
        listed.some((w) => w.id === view.worker_id),
        "its worker_id names a live worker",
      );
    }
    for (let i = 0; i < 4; i++) {
      const { rows } = await target.admin.query(`select count(*)::int as n from ${target.schema}.roles_${i}`);
      assert.equal(rows[0].n, 50);
    }
    // the console answers on the api process
    const page = await fetch(`${apiUrl}/login`);
    assert.equal(page.status, 200);
  } finally {
    for (const p of [api, ...workers]) await p.stop("SIGTERM");
  }
});
