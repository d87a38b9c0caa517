/**
 * The seed's walkthrough through the API: a target prepared as the seed says, registered with its
 * least-privilege user; a provider consumer; its create statement; verify; start; backfill, live, pause,
 * resume. Then the consumer routes' validation and refusals.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { test } from "node:test";
import pg from "pg";
import { createTableSql } from "../../src/targets/postgres/index.js";
import { createSeedTarget, type TargetDatabase } from "../helpers/consumer-world.js";
import { type ApiResponse, type RequestOptions, startTestService } from "../helpers/service.js";
import { waitFor } from "../helpers/wait.js";

const api = await startTestService();
const target = await createSeedTarget();

/** Every answer of this file, to show that the password never leaves the service. */
const answers: string[] = [];
async function request(method: string, path: string, options?: RequestOptions): Promise<ApiResponse> {
  const response = await api.request(method, path, options);
  answers.push(JSON.stringify(response.body));
  return response;
}

async function ok(method: string, path: string, body?: unknown, status = 200) {
  const response = await request(method, path, body === undefined ? {} : { body });
  assert.equal(response.status, status, `${method} ${path}: ${JSON.stringify(response.body)}`);
  return response.body;
}

async function registerTarget(name: string, db: TargetDatabase = target): Promise<string> {
  const created = await ok(
    "POST",
    "/v1/targets/postgres",
    {
      name,
      connection: {
        host: db.host,
        port: db.port,
        database: db.database,
        username: db.user,
        password: db.password,
        ssl: "disable",
      },
    },
    201,
  );
  return created.id;
}

function contacts(from: number, count: number, second: number) {
  return Array.from({ length: count }, (_, k) => ({
    collection_id: "contact",
    upstream_id: String(from + k),
    payload: { lifecyclestage: (from + k) % 3 === 0 ? "lead" : "customer", n: from + k },
    upstream_updated_at: new Date(Date.UTC(2024, 0, 1, 0, 0, second)).toISOString(),
  }));
}

const targetId = await registerTarget("app");

test("the seed's walkthrough: create, verify, start, backfill, live, pause, resume", async () => {
  const sync = await ok("POST", "/v1/syncs", { name: "acme", provider: "hubspot" }, 201);
  await ok("POST", `/v1/syncs/${sync.id}/records`, { records: contacts(0, 300, 1) });
  const stripe = await ok("POST", "/v1/syncs", { name: "elsewhere", provider: "stripe" }, 201);
  await ok("POST", `/v1/syncs/${stripe.id}/records`, { records: contacts(0, 5, 1) });

  const table = { schema: target.schema, name: "records" };
  const consumer = await ok(
    "POST",
    "/v1/consumers/postgres",
    { name: "hubspot-to-app", target_id: targetId, filter: { provider: "hubspot" }, table },
    201,
  );
  assert.equal(consumer.state, "inactive");
  assert.deepEqual(consumer.filter, { provider: "hubspot" });
  assert.deepEqual(consumer.table, table);
  assert.equal(consumer.target_id, targetId);
  assert.equal(consumer.create_table_sql, createTableSql(table));
  assert.deepEqual(consumer.stats, { upserted: 0, deleted: 0, last_applied_at: null });
  assert.equal(consumer.lag.records, 300);
  const path = `/v1/consumers/postgres/${consumer.id}`;

  // no table yet: verify names the problem with its fix, start refuses with the problems
  const missing = await ok("POST", `${path}/verify`);
  assert.equal(missing.ok, false);
  assert.equal(missing.problems[0].kind, "table_missing");
  assert.equal(missing.problems[0].fix_sql, consumer.create_table_sql);
  assert.equal(missing.summary, "1 problem to fix before starting.");
  const refused = await request("POST", `${path}/start`);
  assert.equal(refused.status, 409);
  assert.equal(refused.body.code, "table_invalid");
  assert.equal(refused.body.problems[0].kind, "table_missing");
  assert.match(refused.body.summary, /does not exist/);
  assert.equal((await ok("GET", path)).state, "inactive");

  // the seed's user runs the handed-out statement
  const asSeedUser = new pg.Client({
    host: target.host,
    port: target.port,
    database: target.database,
    user: target.user,
    password: target.password,
  });
  await asSeedUser.connect();
  try {
    await asSeedUser.query(consumer.create_table_sql);
    assert.deepEqual(await ok("POST", `${path}/verify`), {
      ok: true,
      problems: [],
      warnings: [],
      state: "inactive",
      summary: "The table matches what Sequin writes: ready to start.",
    });

    const started = await ok("POST", `${path}/start`);
    assert.equal(started.state, "backfilling");
    assert.equal(started.backfill.total, 300);

    const live = await waitFor("the backfill to finish", async () => {
      const c = await ok("GET", path);
      return c.state === "live" && c.stats.upserted === 300 ? c : undefined;
    });
    assert.equal(live.lag.records, 0);
    assert.equal(live.health.status, "healthy");
    assert.notEqual(live.stats.last_applied_at, null);

    // live changes: upserts and a delete
    await ok("POST", `/v1/syncs/${sync.id}/records`, {
      records: [
        ...contacts(300, 20, 2),
        {
          collection_id: "contact",
          upstream_id: "7",
          deleted: true,
          upstream_updated_at: "2024-01-01T00:00:03Z",
        },
      ],
    });
    const caughtUp = await waitFor("the live changes", async () => {
      const c = await ok("GET", path);
      return c.stats.upserted === 320 && c.stats.deleted === 1 && c.lag.records === 0 ? c : undefined;
    });
    assert.equal(caughtUp.state, "live");
    const { rows } = await asSeedUser.query(`select count(*)::int as n from ${target.schema}.records`);
    assert.equal(rows[0].n, 319, "300 + 20 upserted, 1 deleted; nothing of the other provider");

    // pause: healthy with a note, no-op twice; changes wait
    const paused = await ok("POST", `${path}/pause`);
    assert.equal(paused.state, "paused");
    assert.equal(paused.health.status, "healthy");
    assert.ok(
      paused.health.notes.some((n: string) => /paused by a user/i.test(n)),
      paused.health.notes,
    );
    assert.equal((await ok("POST", `${path}/pause`)).state, "paused");
    await ok("POST", `/v1/syncs/${sync.id}/records`, { records: contacts(400, 5, 4) });
    assert.equal((await ok("GET", path)).lag.records, 5);

    // resume (an empty JSON body, as curl sends with a content-type, is fine)
    const resumed = await request("POST", `${path}/resume`, {
      rawBody: "",
      headers: { "content-type": "application/json" },
    });
    assert.equal(resumed.status, 200, JSON.stringify(resumed.body));
    assert.equal(resumed.body.state, "live");
    await waitFor("the changes made while paused", async () => {
      const c = await ok("GET", path);
      return c.stats.upserted === 325 && c.lag.records === 0 ? c : undefined;
    });
    assert.equal((await ok("POST", `${path}/start`)).state, "live", "start on a running consumer is a no-op");

    const events = await ok("GET", `${path}/events`);
    const transitions = events.data.map(
      (e: { from_state: string; to_state: string }) => `${e.from_state}>${e.to_state}`,
    );
    for (const expected of ["inactive>backfilling", "live>paused", "paused>live"]) {
      assert.ok(transitions.includes(expected), `${expected} in ${transitions.join(", ")}`);
    }
    for (const event of events.data) {
      assert.ok(!Number.isNaN(Date.parse(event.at)));
      assert.ok(event.note === null || typeof event.note === "string");
    }
    assert.equal(events.data[0].to_state, "live", "newest first");
    assert.equal((await ok("GET", `${path}/events?limit=1`)).data.length, 1);

    // a target with a consumer cannot be deleted
    const deleteTarget = await request("DELETE", `/v1/targets/postgres/${targetId}`);
    assert.equal(deleteTarget.status, 409);
    assert.equal(deleteTarget.body.code, "conflict");

    const list = await ok("GET", "/v1/consumers/postgres");
    assert.ok(list.data.some((c: { id: string }) => c.id === consumer.id));
  } finally {
    await asSeedUser.end();
  }
});

test("weird but valid table names are accepted and quoted; invalid ones → 400 naming table.name", async () => {
  for (const name of ["Mixed Case", 'we"ird', "é".repeat(31)]) {
    const created = await ok(
      "POST",
      "/v1/consumers/postgres",
      {
        name: `weird-${name}`,
        target_id: targetId,
        filter: { provider: "p" },
        table: { schema: "crm", name },
      },
      201,
    );
    assert.equal(created.table.name, name);
    assert.equal(created.create_table_sql, createTableSql({ schema: "crm", name }));
  }
  assert.match(
    (await ok("GET", "/v1/consumers/postgres")).data.find((c: { name: string }) => c.name === 'weird-we"ird')
      .create_table_sql,
    /^create table "crm"\."we""ird" \(/,
  );

  for (const [name, rule] of [
    ["", /must not be empty/],
    ["x".repeat(64), /64 bytes .* at most 63 bytes/],
    ["é".repeat(32), /64 bytes .* at most 63 bytes/],
    ["sequin_fences", /Sequin's fence table/],
  ] as const) {
    const response = await request("POST", "/v1/consumers/postgres", {
      body: {
        name: "invalid",
        target_id: targetId,
        filter: { provider: "p" },
        table: { schema: "crm", name },
      },
    });
    assert.equal(response.status, 400, JSON.stringify(response.body));
    assert.equal(response.body.code, "validation_failed");
    assert.deepEqual(Object.keys(response.body.validation_errors), ["table.name"]);
    assert.match(response.body.validation_errors["table.name"][0], rule);
    assert.match(response.body.summary, /table\.name/);
  }
});

test("consumer input and refusals: unknown fields, unknown target, pause before start, 404s", async () => {
  const base = {
    name: "checks",
    target_id: targetId,
    filter: { provider: "p" },
    table: { schema: "s", name: "t" },
  };
  const extra = await request("POST", "/v1/consumers/postgres", { body: { ...base, colour: "red" } });
  assert.equal(extra.status, 400);
  assert.deepEqual(extra.body.validation_errors, { colour: ["unknown field"] });

  const bothFilters = await request("POST", "/v1/consumers/postgres", {
    body: { ...base, filter: { provider: "p", sync_id: randomUUID() } },
  });
  assert.equal(bothFilters.status, 400);

  const noTarget = await request("POST", "/v1/consumers/postgres", {
    body: { ...base, target_id: randomUUID() },
  });
  assert.equal(noTarget.status, 400);
  assert.ok(noTarget.body.validation_errors.target_id);

  const created = await ok("POST", "/v1/consumers/postgres", base, 201);
  const path = `/v1/consumers/postgres/${created.id}`;
  const twice = await request("POST", "/v1/consumers/postgres", { body: base });
  assert.equal(twice.status, 409);

  for (const action of ["pause", "resume"]) {
    const response = await request("POST", `${path}/${action}`);
    assert.equal(response.status, 409, action);
    assert.equal(response.body.code, "conflict");
    assert.match(response.body.summary, /inactive/);
  }

  const renamed = await ok("PATCH", path, { name: "checks-renamed", table: { schema: "s", name: "t2" } });
  assert.equal(renamed.name, "checks-renamed");
  assert.equal(renamed.create_table_sql, createTableSql({ schema: "s", name: "t2" }));
  const badPatch = await request("PATCH", path, { body: { table: { schema: "s", name: "" } } });
  assert.equal(badPatch.status, 400);
  assert.ok(badPatch.body.validation_errors["table.name"]);

  assert.equal((await request("DELETE", path)).status, 204);
  const id = created.id;
  for (const [method, route] of [
    ["GET", `/v1/consumers/postgres/${id}`],
    ["DELETE", `/v1/consumers/postgres/${id}`],
    ["POST", `/v1/consumers/postgres/${id}/verify`],
    ["POST", `/v1/consumers/postgres/${id}/start`],
    ["POST", `/v1/consumers/postgres/${id}/pause`],
    ["GET", `/v1/consumers/postgres/${id}/events`],
  ] as const) {
    const response = await request(method, route);
    assert.equal(response.status, 404, `${method} ${route}`);
    assert.equal(response.body.code, "not_found");
  }
});

test("verify and start answer 422 when the target cannot be reached", async () => {
  const other = await createSeedTarget();
  const otherId = await registerTarget("soon-gone", other);
  const consumer = await ok(
    "POST",
    "/v1/consumers/postgres",
    { name: "unreachable", target_id: otherId, filter: { provider: "p" }, table: { schema: "s", name: "t" } },
    201,
  );
  await other.admin.query(`alter user ${other.user} with password 'changed-behind-our-back'`);
  for (const action of ["verify", "start"]) {
    const response = await request("POST", `/v1/consumers/postgres/${consumer.id}/${action}`);
    assert.equal(response.status, 422, action);
    assert.equal(response.body.code, "target_unreachable");
    assert.match(response.body.summary, /password authentication failed/);
  }
});

test("no answer holds a target's password", () => {
  assert.ok(answers.length > 30);
  for (const answer of answers) assert.ok(!answer.includes(target.password), answer);
});
