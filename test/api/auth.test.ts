import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { test } from "node:test";
import pino from "pino";
import { routeTable } from "../../src/api/server.js";
import { startService } from "../../src/service.js";
import { createTestStore } from "../helpers/database.js";
import { apiClient, startTestService, testConfig } from "../helpers/service.js";

const api = await startTestService();

/** Every /v1 route of the running server, with its path parameters filled in. */
function v1Routes(): { method: string; path: string }[] {
  const routes = routeTable(api.service.server).filter(
    (r) => r.url.startsWith("/v1/") && r.method !== "HEAD",
  );
  return routes.map((r) => ({ method: r.method, path: r.url.replace(/:[a-z_]+/g, () => randomUUID()) }));
}

function assertUnauthorized(response: { status: number; body: unknown }, what: string): void {
  assert.equal(response.status, 401, what);
  const body = response.body as { code: string; summary: string };
  assert.equal(body.code, "unauthorized", what);
  assert.equal(typeof body.summary, "string", what);
}

test("the route table holds the sync, target and consumer routes", () => {
  const routes = v1Routes().map((r) => `${r.method} ${r.path.replace(/[0-9a-f-]{36}/g, "{}")}`);
  for (const expected of [
    "POST /v1/syncs",
    "GET /v1/syncs",
    "GET /v1/syncs/{}",
    "PATCH /v1/syncs/{}",
    "DELETE /v1/syncs/{}",
    "DELETE /v1/syncs/{}/collections/{}",
    "POST /v1/syncs/{}/records",
    "GET /v1/syncs/{}/records",
    "POST /v1/targets/postgres",
    "GET /v1/targets/postgres",
    "GET /v1/targets/postgres/{}",
    "PATCH /v1/targets/postgres/{}",
    "DELETE /v1/targets/postgres/{}",
    "POST /v1/targets/postgres/{}/test",
    "POST /v1/consumers/postgres",
    "GET /v1/consumers/postgres",
    "GET /v1/consumers/postgres/{}",
    "PATCH /v1/consumers/postgres/{}",
    "DELETE /v1/consumers/postgres/{}",
    "POST /v1/consumers/postgres/{}/verify",
    "POST /v1/consumers/postgres/{}/start",
    "POST /v1/consumers/postgres/{}/pause",
    "POST /v1/consumers/postgres/{}/resume",
    "GET /v1/consumers/postgres/{}/events",
  ]) {
    assert.ok(routes.includes(expected), `${expected} missing from ${routes.join(", ")}`);
  }
});

test("every /v1 route refuses a request without a token", async () => {
  for (const { method, path } of v1Routes()) {
    const body = ["POST", "PATCH", "PUT"].includes(method) ? {} : undefined;
    const response = await api.request(method, path, { token: null, body });
    assertUnauthorized(response, `${method} ${path}`);
    assert.equal(response.headers.get("www-authenticate"), "Bearer");
  }
});

test("every /v1 route refuses a wrong token, and a malformed header", async () => {
  for (const { method, path } of v1Routes()) {
    const body = ["POST", "PATCH", "PUT"].includes(method) ? {} : undefined;
    assertUnauthorized(
      await api.request(method, path, { token: `${api.token}x`, body }),
      `${method} ${path}`,
    );
    assertUnauthorized(
      await api.request(method, path, { token: null, headers: { authorization: api.token }, body }),
      `${method} ${path} without the Bearer scheme`,
    );
  }
});

test("unknown /v1 paths need a token too", async () => {
  assertUnauthorized(await api.request("GET", "/v1/nothing-here", { token: null }), "GET /v1/nothing-here");
  const known = await api.request("GET", "/v1/nothing-here");
  assert.equal(known.status, 404);
  assert.equal(known.body.code, "not_found");
});

test("/health and /openapi.json need no token", async () => {
  const health = await api.request("GET", "/health", { token: null });
  assert.equal(health.status, 200);
  assert.deepEqual(health.body, { status: "ok" });
  const doc = await api.request("GET", "/openapi.json", { token: null });
  assert.equal(doc.status, 200);
  assert.match(doc.body.openapi, /^3\.1\./);
});

test("the configured token is accepted, with any case of the scheme", async () => {
  const response = await api.request("GET", "/v1/syncs", {
    token: null,
    headers: { authorization: `bearer ${api.token}` },
  });
  assert.equal(response.status, 200);
  assert.deepEqual(response.body, { data: [] });
});

test("without SEQUIN_API_TOKEN a token is generated once, stored hashed, and accepted", async () => {
  const store = await createTestStore();
  const config = { ...testConfig(store.url, "unused-token-0000"), apiToken: undefined };
  const log = pino({ level: "silent" });

  const first = await startService(config, { log });
  try {
    assert.match(first.token ?? "", /^sqn_[A-Za-z0-9_-]{43}$/);
    const request = apiClient(first.url, first.token);
    assert.equal((await request("GET", "/v1/syncs")).status, 200);
    assert.equal((await request("GET", "/v1/syncs", { token: "sqn_wrong" })).status, 401);
    const { rows } = await store.pool.query(
      "select encode(token_sha256, 'hex') as digest from sequin_api_tokens",
    );
    assert.equal(rows.length, 1);
    assert.notEqual(rows[0].digest, first.token);
    assert.equal(rows[0].digest.length, 64);
  } finally {
    await first.stop();
  }

  const second = await startService(config, { log });
  try {
    assert.equal(second.token, undefined, "a second start shows no token");
    assert.equal((await apiClient(second.url, first.token)("GET", "/v1/syncs")).status, 200);
  } finally {
    await second.stop();
  }
});
