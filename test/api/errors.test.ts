import assert from "node:assert/strict";
import { randomBytes, randomUUID } from "node:crypto";
import { test } from "node:test";
import pino from "pino";
import { ApiTokens } from "../../src/api/api-tokens.js";
import { buildServer } from "../../src/api/server.js";
import { Consumers } from "../../src/consumer/index.js";
import { createStorePool } from "../../src/db/pool.js";
import { ServiceMetrics } from "../../src/health/metrics.js";
import { Targets } from "../../src/targets/index.js";
import { Vault } from "../../src/vault/index.js";
import { startTestService, testConfig, testToken } from "../helpers/service.js";

const api = await startTestService();

function assertEnvelope(
  body: unknown,
  code: string,
): asserts body is { code: string; summary: string; validation_errors?: Record<string, string[]> } {
  const envelope = body as Record<string, unknown>;
  assert.equal(envelope.code, code, JSON.stringify(body));
  assert.equal(typeof envelope.summary, "string");
  assert.ok((envelope.summary as string).length > 0);
}

test("invalid JSON → 400 validation_failed", async () => {
  const response = await api.request("POST", "/v1/syncs", { rawBody: '{"name": ' });
  assert.equal(response.status, 400);
  assertEnvelope(response.body, "validation_failed");
  assert.match(response.body.summary, /not valid JSON/);
});

test("an empty JSON body → 400 envelope", async () => {
  const response = await api.request("POST", "/v1/syncs", { rawBody: "" });
  assert.equal(response.status, 400);
  assertEnvelope(response.body, "validation_failed");
});

test("a body of the wrong type → 400 naming the body", async () => {
  const response = await api.request("POST", "/v1/syncs", { body: [1, 2] });
  assert.equal(response.status, 400);
  assertEnvelope(response.body, "validation_failed");
  assert.ok(response.body.validation_errors?.body);
});

test("an unknown field → 400 naming the field, also when nested", async () => {
  const top = await api.request("POST", "/v1/syncs", { body: { name: "a", provider: "p", colour: "red" } });
  assert.equal(top.status, 400);
  assertEnvelope(top.body, "validation_failed");
  assert.deepEqual(top.body.validation_errors, { colour: ["unknown field"] });
  assert.match(top.body.summary, /colour/);

  const sync = await api.request("POST", "/v1/syncs", { body: { name: "unknown-fields", provider: "p" } });
  assert.equal(sync.status, 201);
  const record = {
    collection_id: "c",
    upstream_id: "1",
    payload: {},
    upstream_updated_at: "2024-01-01T00:00:00Z",
  };
  const nested = await api.request("POST", `/v1/syncs/${sync.body.id}/records`, {
    body: { records: [record, { ...record, extra: 1 }] },
  });
  assert.equal(nested.status, 400);
  assert.deepEqual(nested.body.validation_errors, { "records[1].extra": ["unknown field"] });

  const query = await api.request("GET", `/v1/syncs/${sync.body.id}/records?colection_id=c`);
  assert.equal(query.status, 400);
  assert.deepEqual(query.body.validation_errors, { colection_id: ["unknown field"] });
});

test("a missing and a wrongly typed field → 400 naming each", async () => {
  const response = await api.request("POST", "/v1/syncs", { body: { name: 5 } });
  assert.equal(response.status, 400);
  assertEnvelope(response.body, "validation_failed");
  assert.deepEqual(Object.keys(response.body.validation_errors ?? {}).sort(), ["name", "provider"]);
  assert.match(response.body.summary, /^invalid (name|provider): .*\(and 1 more\)$/);
});

test("a path id that is not a UUID → 400 naming the parameter", async () => {
  const response = await api.request("GET", "/v1/syncs/not-a-uuid");
  assert.equal(response.status, 400);
  assertEnvelope(response.body, "validation_failed");
  assert.deepEqual(response.body.validation_errors, { id: ["id must be a UUID"] });
  assert.match(response.body.summary, /path parameter id/);
});

test("an unknown sync → 404 not_found; an unknown route → 404 not_found", async () => {
  const id = randomUUID();
  const sync = await api.request("GET", `/v1/syncs/${id}`);
  assert.equal(sync.status, 404);
  assertEnvelope(sync.body, "not_found");
  assert.match(sync.body.summary, new RegExp(id));

  const route = await api.request("GET", "/nowhere");
  assert.equal(route.status, 404);
  assertEnvelope(route.body, "not_found");
  const method = await api.request("PUT", "/v1/syncs");
  assert.equal(method.status, 404);
  assertEnvelope(method.body, "not_found");
});

test("a duplicate sync name → 409 conflict", async () => {
  const body = { name: "twice", provider: "p" };
  assert.equal((await api.request("POST", "/v1/syncs", { body })).status, 201);
  const again = await api.request("POST", "/v1/syncs", { body });
  assert.equal(again.status, 409);
  assertEnvelope(again.body, "conflict");
});

test("a body over 32 MiB → 413 payload_too_large", async () => {
  const big = JSON.stringify({ records: [{ payload: { blob: "x".repeat(33 * 1024 * 1024) } }] });
  const response = await api.request("POST", `/v1/syncs/${randomUUID()}/records`, { rawBody: big });
  assert.equal(response.status, 413);
  assertEnvelope(response.body, "payload_too_large");
});

test("a body that is not JSON → 415 envelope", async () => {
  const response = await api.request("POST", "/v1/syncs", {
    rawBody: "name=a",
    headers: { "content-type": "application/x-www-form-urlencoded" },
  });
  assert.equal(response.status, 415);
  assertEnvelope(response.body, "validation_failed");
});

test("an unexpected error → 500 internal, without its message; the store down → 503", async () => {
  const token = testToken();
  const pool = createStorePool("postgres://nobody:secret@127.0.0.1:1/none", { max: 1 });
  const config = testConfig("postgres://nobody:secret@127.0.0.1:1/none", token);
  const logLines: string[] = [];
  const log = pino({ level: "info" }, { write: (line: string) => logLines.push(line) });
  const targets = new Targets(pool, Vault.fromKey(randomBytes(32)));
  const consumers = new Consumers({ pool, targets, lagAlertSeconds: 300 });
  const app = await buildServer({
    config,
    pool,
    log,
    tokens: new ApiTokens(pool, token),
    targets,
    consumers,
    metrics: new ServiceMetrics(() => consumers.list()),
  });
  app.post("/v1/boom", async () => {
    throw new Error("secret detail of a bug");
  });
  try {
    const authorization = `Bearer ${token}`;
    const boom = await app.inject({
      method: "POST",
      url: "/v1/boom",
      headers: { authorization },
      payload: { password: "body-secret" },
    });
    assert.equal(boom.statusCode, 500);
    assertEnvelope(boom.json(), "internal");
    assert.doesNotMatch(boom.body, /secret detail/);
    const logged = logLines.join("");
    assert.match(logged, /secret detail of a bug/, "the error is logged");
    assert.doesNotMatch(logged, /body-secret/, "the request body is not");
    assert.doesNotMatch(logged, new RegExp(token), "nor the token");

    const syncs = await app.inject({ method: "GET", url: "/v1/syncs", headers: { authorization } });
    assert.equal(syncs.statusCode, 503);
    assertEnvelope(syncs.json(), "store_unavailable");

    const health = await app.inject({ method: "GET", url: "/health" });
    assert.equal(health.statusCode, 503);
    assert.deepEqual(health.json(), { status: "unavailable" });
  } finally {
    await app.close();
    await pool.end();
  }
});
