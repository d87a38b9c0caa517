import assert from "node:assert/strict";
import { randomBytes, randomUUID } from "node:crypto";
import { createServer } from "node:net";
import { test } from "node:test";
import pino from "pino";
import { createSeedTarget } from "../helpers/consumer-world.js";
import { type ApiResponse, type RequestOptions, startTestService } from "../helpers/service.js";

const logLines: string[] = [];
const api = await startTestService(
  {},
  { log: pino({ level: "trace" }, { write: (line: string) => logLines.push(line) }) },
);
const target = await createSeedTarget();

/** Every answer of this file, to show that the password never leaves the service. */
const answers: string[] = [];
async function request(method: string, path: string, options?: RequestOptions): Promise<ApiResponse> {
  const response = await api.request(method, path, options);
  answers.push(JSON.stringify(response.body));
  return response;
}

function connection(overrides: Record<string, unknown> = {}) {
  return {
    host: target.host,
    port: target.port,
    database: target.database,
    username: target.user,
    password: target.password,
    ssl: "disable",
    ...overrides,
  };
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

let names = 0;
async function createTarget(extra: Record<string, unknown> = {}) {
  const response = await request("POST", "/v1/targets/postgres", {
    body: { name: `app-${++names}`, connection: connection(), ...extra },
  });
  assert.equal(response.status, 201, JSON.stringify(response.body));
  return response.body as { id: string; name: string };
}

test("a target is registered as the seed's user, and answered without its password", async () => {
  const response = await request("POST", "/v1/targets/postgres", {
    body: { name: "app", connection: connection() },
  });
  assert.equal(response.status, 201, JSON.stringify(response.body));
  const created = response.body;
  assert.match(created.id, /^[0-9a-f-]{36}$/);
  assert.equal(created.name, "app");
  assert.deepEqual(created.connection, {
    host: target.host,
    port: target.port,
    database: target.database,
    username: target.user,
    ssl: "disable",
  });
  assert.equal(created.health.status, "healthy");

  const list = await request("GET", "/v1/targets/postgres");
  assert.equal(list.status, 200);
  assert.ok(list.body.data.some((t: { id: string }) => t.id === created.id));
  const got = await request("GET", `/v1/targets/postgres/${created.id}`);
  assert.equal(got.status, 200);
  assert.deepEqual({ ...got.body, health: undefined }, { ...created, health: undefined });

  const { rows } = await api.store.pool.query(
    "select encode(password_encrypted, 'escape') as stored from sequin_targets where id = $1",
    [created.id],
  );
  assert.ok(!rows[0].stored.includes(target.password), "the password is encrypted at rest");

  const twice = await request("POST", "/v1/targets/postgres", {
    body: { name: "app", connection: connection() },
  });
  assert.equal(twice.status, 409);
  assert.equal(twice.body.code, "conflict");
});

test("a wrong password or an unreachable server → 422 target_unreachable with the database's reason", async () => {
  const wrong = await request("POST", "/v1/targets/postgres", {
    body: { name: "wrong-password", connection: connection({ password: "not-the-password" }) },
  });
  assert.equal(wrong.status, 422, JSON.stringify(wrong.body));
  assert.equal(wrong.body.code, "target_unreachable");
  assert.match(wrong.body.summary, /authentication failed/);
  assert.match(wrong.body.summary, new RegExp(`password authentication failed for user "${target.user}"`));
  assert.ok(!JSON.stringify(wrong.body).includes("not-the-password"));

  const port = await closedPort();
  const unreachable = await request("POST", "/v1/targets/postgres", {
    body: { name: "nobody-home", connection: connection({ host: "127.0.0.1", port }) },
  });
  assert.equal(unreachable.status, 422);
  assert.equal(unreachable.body.code, "target_unreachable");
  assert.match(unreachable.body.summary, new RegExp(`127\\.0\\.0\\.1:${port}.*connection refused`));

  const missingDb = await request("POST", "/v1/targets/postgres", {
    body: { name: "no-db", connection: connection({ database: "no_such_database" }) },
  });
  assert.equal(missingDb.status, 422);
  assert.match(missingDb.body.summary, /no_such_database/);

  const list = await request("GET", "/v1/targets/postgres");
  const names = list.body.data.map((t: { name: string }) => t.name);
  for (const refused of ["wrong-password", "nobody-home", "no-db"]) assert.ok(!names.includes(refused));
});

test("invalid input → 400 naming the field; unknown fields refused", async () => {
  const badPort = await request("POST", "/v1/targets/postgres", {
    body: { name: "bad", connection: connection({ port: 70000 }) },
  });
  assert.equal(badPort.status, 400);
  assert.ok(badPort.body.validation_errors["connection.port"]);

  const extra = await request("POST", "/v1/targets/postgres", {
    body: { name: "bad", connection: connection({ sslmode: "require" }) },
  });
  assert.equal(extra.status, 400);
  assert.deepEqual(extra.body.validation_errors, { "connection.sslmode": ["unknown field"] });

  const badSsl = await request("POST", "/v1/targets/postgres", {
    body: { name: "bad", connection: connection({ ssl: "always" }) },
  });
  assert.equal(badSsl.status, 400);
  assert.ok(badSsl.body.validation_errors["connection.ssl"]);
});

test("PATCH renames; a changed connection is tried first and refused with 422", async () => {
  const created = await createTarget();
  const renamed = await request("PATCH", `/v1/targets/postgres/${created.id}`, {
    body: { name: `${created.name}-renamed` },
  });
  assert.equal(renamed.status, 200, JSON.stringify(renamed.body));
  assert.equal(renamed.body.name, `${created.name}-renamed`);

  const wrong = await request("PATCH", `/v1/targets/postgres/${created.id}`, {
    body: { connection: { password: "another-wrong-one" } },
  });
  assert.equal(wrong.status, 422);
  assert.equal(wrong.body.code, "target_unreachable");
  const stillOk = await request("POST", `/v1/targets/postgres/${created.id}/test`);
  assert.equal(stillOk.body.ok, true, "the refused change was not saved");

  const samePassword = await request("PATCH", `/v1/targets/postgres/${created.id}`, {
    body: { connection: { ssl: "prefer" } },
  });
  assert.equal(samePassword.status, 200, JSON.stringify(samePassword.body));
  assert.equal(samePassword.body.connection.ssl, "prefer");
  assert.equal(samePassword.body.name, `${created.name}-renamed`);
});

test("test: ok with latency_ms; a target whose password changed since answers ok false with the reason", async () => {
  const created = await createTarget();
  const ok = await request("POST", `/v1/targets/postgres/${created.id}/test`);
  assert.equal(ok.status, 200);
  assert.equal(ok.body.ok, true);
  assert.equal(typeof ok.body.latency_ms, "number");
  assert.ok(ok.body.latency_ms >= 0);
  assert.equal(ok.body.error, undefined);

  // an empty JSON body, as `curl -X POST -H 'content-type: application/json'` sends, is fine
  const emptyJson = await request("POST", `/v1/targets/postgres/${created.id}/test`, {
    rawBody: "",
    headers: { "content-type": "application/json" },
  });
  assert.equal(emptyJson.status, 200);

  const user = `sequin_moved_${randomBytes(4).toString("hex")}`;
  await target.admin.query(`create user ${user} with password 'first-password'`);
  const moved = await request("POST", "/v1/targets/postgres", {
    body: {
      name: "moved",
      connection: connection({ username: user, password: "first-password" }),
    },
  });
  assert.equal(moved.status, 201);
  await target.admin.query(`alter user ${user} with password 'second-password'`);
  const failed = await request("POST", `/v1/targets/postgres/${moved.body.id}/test`);
  assert.equal(failed.status, 200);
  assert.equal(failed.body.ok, false);
  assert.match(failed.body.error, /password authentication failed/);
  assert.ok(!JSON.stringify(failed.body).includes("first-password"));
});

test("a target with consumers cannot be deleted (409); without, it can (204)", async () => {
  const created = await createTarget();
  const consumer = await request("POST", "/v1/consumers/postgres", {
    body: {
      name: `uses-${created.id}`,
      target_id: created.id,
      filter: { provider: "hubspot" },
      table: { schema: target.schema, name: "records" },
    },
  });
  assert.equal(consumer.status, 201, JSON.stringify(consumer.body));

  const refused = await request("DELETE", `/v1/targets/postgres/${created.id}`);
  assert.equal(refused.status, 409);
  assert.equal(refused.body.code, "conflict");
  assert.match(refused.body.summary, /consumer/);

  assert.equal((await request("DELETE", `/v1/consumers/postgres/${consumer.body.id}`)).status, 204);
  const deleted = await request("DELETE", `/v1/targets/postgres/${created.id}`);
  assert.equal(deleted.status, 204);
  assert.equal((await request("GET", `/v1/targets/postgres/${created.id}`)).status, 404);
  assert.equal((await request("DELETE", `/v1/targets/postgres/${created.id}`)).status, 404);
});

test("unknown targets → 404", async () => {
  const id = randomUUID();
  for (const [method, path] of [
    ["GET", `/v1/targets/postgres/${id}`],
    ["PATCH", `/v1/targets/postgres/${id}`],
    ["POST", `/v1/targets/postgres/${id}/test`],
  ] as const) {
    const response = await request(method, path, method === "PATCH" ? { body: { name: "x" } } : {});
    assert.equal(response.status, 404, `${method} ${path}`);
    assert.equal(response.body.code, "not_found");
  }
});

test("the password is in no answer and in no log line", () => {
  assert.ok(answers.length > 20);
  for (const answer of answers) assert.ok(!answer.includes(target.password), answer);
  assert.ok(logLines.length > 0, "the service logged at trace level");
  for (const line of logLines) assert.ok(!line.includes(target.password), line);
});
