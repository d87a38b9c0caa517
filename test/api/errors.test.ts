import assert from "node:assert/strict";
import { randomBytes, randomUUID } from "node:crypto";
import { describe, test } from "node:test";
import pino from "pino";
import { ApiTokens } from "../../src/api/api-tokens.js";
import { buildServer } from "../../src/api/server.js";
import { Consumers } from "../../src/consumer/index.js";
import { createStorePool } from "../../src/db/pool.js";
import { ServiceMetrics } from "../../src/health/metrics.js";
import { Sources } from "../../src/sources/index.js";
import { Targets } from "../../src/targets/index.js";
import { Vault } from "../../src/vault/index.js";
import { createSeedTarget } from "../helpers/consumer-world.js";
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

test("a path that is not percent-encoded UTF-8, or a very long path parameter → 400 envelope", async () => {
  for (const path of ["/v1/syncs/%ZZ", "/v1/syncs/%ED%A0%80", "/v1/syncs/%E0%A4%A"]) {
    const response = await api.request("GET", path);
    assert.equal(response.status, 400, `${path}: ${JSON.stringify(response.body)}`);
    assertEnvelope(response.body, "validation_failed");
    assert.ok(response.body.validation_errors?.path, JSON.stringify(response.body));
  }
  const long = await api.request("GET", `/v1/syncs/${"x".repeat(5000)}`);
  assert.equal(long.status, 400, JSON.stringify(long.body));
  assertEnvelope(long.body, "validation_failed");

  // a collection id of 255 characters, percent-encoded, is longer than a router's usual 100
  const collection = "é".repeat(255);
  const sync = await api.request("POST", "/v1/syncs", {
    body: { name: "long-ids", provider: "p", collections: [collection] },
  });
  const removed = await api.request(
    "DELETE",
    `/v1/syncs/${sync.body.id}/collections/${encodeURIComponent(collection)}`,
  );
  assert.equal(removed.status, 204, JSON.stringify(removed.body));
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
  const vault = Vault.fromKey(randomBytes(32));
  const targets = new Targets(pool, vault);
  const consumers = new Consumers({ pool, targets, lagAlertSeconds: 300 });
  const app = await buildServer({
    config,
    pool,
    log,
    tokens: new ApiTokens(pool, token),
    targets,
    consumers,
    sources: new Sources({ pool, vault }),
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
    assert.equal(health.json().status, "unavailable");
    assertEnvelope(health.json(), "store_unavailable");
  } finally {
    await app.close();
    await pool.end();
  }
});

describe("poisoned JSON and NUL bytes are refused at the door (400), never 500", async () => {
  const target = await createSeedTarget();
  const connection = {
    host: target.host,
    port: target.port,
    database: target.database,
    username: target.user,
    password: target.password,
    ssl: "disable",
  };
  const sync = await api.request("POST", "/v1/syncs", { body: { name: "poison", provider: "poison" } });
  assert.equal(sync.status, 201, JSON.stringify(sync.body));
  const seedTarget = await api.request("POST", "/v1/targets/postgres", {
    body: { name: "poison-target", connection },
  });
  assert.equal(seedTarget.status, 201, JSON.stringify(seedTarget.body));
  const record = {
    collection_id: "contact",
    upstream_id: "1",
    payload: { email: "a@b.c" },
    upstream_updated_at: "2024-01-01T00:00:00Z",
  };
  let names = 0;
  const routes: { path: string; body: () => Record<string, unknown> }[] = [
    { path: "/v1/syncs", body: () => ({ name: `poisoned-${++names}`, provider: "hubspot" }) },
    { path: `/v1/syncs/${sync.body.id}/records`, body: () => ({ records: [record] }) },
    {
      path: "/v1/targets/postgres",
      body: () => ({ name: `poisoned-${++names}`, connection }),
    },
    {
      path: "/v1/consumers/postgres",
      body: () => ({
        name: `poisoned-${++names}`,
        target_id: seedTarget.body.id,
        filter: { provider: "hubspot" },
        table: { schema: "crm", name: `t${names}` },
      }),
    },
  ];
  const poisons: [string, string][] = [
    ["constructor", '{"prototype": {"polluted": true}}'],
    ["__proto__", '{"polluted": true}'],
  ];

  for (const { path, body } of routes) {
    for (const [key, value] of poisons) {
      test(`POST ${path} with ${key} at the top → 400 naming ${key}`, async () => {
        const text = JSON.stringify(body()).replace(/^\{/, `{"${key}": ${value}, `);
        const response = await api.request("POST", path, { rawBody: text });
        assert.equal(response.status, 400, JSON.stringify(response.body));
        assertEnvelope(response.body, "validation_failed");
        assert.ok(response.body.validation_errors?.[key], JSON.stringify(response.body));
        assert.match(response.body.summary, new RegExp(key));
        assert.equal(({} as Record<string, unknown>).polluted, undefined);
      });
    }
  }

  test("__proto__ at any depth (payload, metadata, connection) → 400 naming its path", async () => {
    // JSON.stringify cannot write a __proto__ key: a placeholder is renamed in the text
    const poisoned = (body: unknown) => JSON.stringify(body).replaceAll('"PROTO"', '"__proto__"');
    const cases: [string, string, string][] = [
      [
        `/v1/syncs/${sync.body.id}/records`,
        poisoned({ records: [record, { ...record, payload: { deep: [{ PROTO: { polluted: true } }] } }] }),
        "records[1].payload.deep[0].__proto__",
      ],
      [
        "/v1/syncs",
        poisoned({ name: "proto-meta", provider: "p", metadata: { PROTO: { polluted: true } } }),
        "metadata.__proto__",
      ],
      [
        "/v1/targets/postgres",
        poisoned({ name: "proto-connection", connection: { ...connection, PROTO: { polluted: true } } }),
        "connection.__proto__",
      ],
    ];
    for (const [path, text, field] of cases) {
      const response = await api.request("POST", path, { rawBody: text });
      assert.equal(response.status, 400, `${path}: ${JSON.stringify(response.body)}`);
      assertEnvelope(response.body, "validation_failed");
      assert.deepEqual(Object.keys(response.body.validation_errors ?? {}), [field]);
      assert.match(response.body.summary, /__proto__/);
    }
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  test("constructor and prototype in a payload or metadata are plain data, kept as sent", async () => {
    const payload = { constructor: { prototype: { polluted: true } }, prototype: "x", email: "a@b.c" };
    const ingest = await api.request("POST", `/v1/syncs/${sync.body.id}/records`, {
      body: { records: [{ ...record, upstream_id: "constructor", payload }] },
    });
    assert.equal(ingest.status, 200, JSON.stringify(ingest.body));
    const stored = await api.request(
      "GET",
      `/v1/syncs/${sync.body.id}/records?collection_id=contact&upstream_id=constructor`,
    );
    assert.equal(stored.status, 200, JSON.stringify(stored.body));
    assert.deepEqual(stored.body.data[0].payload, payload);

    const metadata = { constructor: { prototype: { polluted: true } } };
    const created = await api.request("POST", "/v1/syncs", {
      body: { name: "constructor-meta", provider: "p", metadata },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.deepEqual(created.body.metadata, metadata);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  test('{"name": "\\u0000"} on a target → 400 naming name', async () => {
    const response = await api.request("POST", "/v1/targets/postgres", {
      body: { name: "\u0000", connection },
    });
    assert.equal(response.status, 400, JSON.stringify(response.body));
    assertEnvelope(response.body, "validation_failed");
    assert.deepEqual(Object.keys(response.body.validation_errors ?? {}), ["name"]);
    assert.match(response.body.validation_errors?.name?.[0] ?? "", /NUL/);
  });

  test("a NUL in any text field or path id → 400 naming the field", async () => {
    const cases: [string, string, unknown, string][] = [
      ["POST", "/v1/syncs", { name: "a", provider: "p", external_id: "x\u0000" }, "external_id"],
      ["POST", "/v1/syncs", { name: "a", provider: "p", collections: ["c\u0000"] }, "collections[0]"],
      ["POST", "/v1/syncs", { name: "a", provider: "p", metadata: { k: ["v\u0000"] } }, "metadata.k[0]"],
      ["POST", "/v1/syncs", { name: "a", provider: "p", metadata: { k: "\ud800" } }, "metadata.k"],
      [
        "POST",
        "/v1/targets/postgres",
        { name: "n", connection: { ...connection, database: "d\u0000" } },
        "connection.database",
      ],
      [
        "POST",
        "/v1/targets/postgres",
        { name: "n", connection: { ...connection, password: "p\u0000" } },
        "connection.password",
      ],
      ["PATCH", `/v1/targets/postgres/${seedTarget.body.id}`, { name: "n\u0000" }, "name"],
      [
        "POST",
        "/v1/consumers/postgres",
        {
          name: "c",
          target_id: seedTarget.body.id,
          filter: { provider: "p\u0000" },
          table: { schema: "crm", name: "t" },
        },
        "filter.provider",
      ],
      [
        "POST",
        "/v1/consumers/postgres",
        {
          name: "c\u0000",
          target_id: seedTarget.body.id,
          filter: { provider: "p" },
          table: { schema: "crm", name: "t" },
        },
        "name",
      ],
    ];
    for (const [method, path, body, field] of cases) {
      const response = await api.request(method, path, { body });
      assert.equal(response.status, 400, `${method} ${path}: ${JSON.stringify(response.body)}`);
      assertEnvelope(response.body, "validation_failed");
      assert.ok(response.body.validation_errors?.[field], `${field}: ${JSON.stringify(response.body)}`);
    }

    const query = await api.request(
      "GET",
      `/v1/syncs/${sync.body.id}/records?collection_id=%00&upstream_id=1`,
    );
    assert.equal(query.status, 400, JSON.stringify(query.body));
    assert.ok(query.body.validation_errors?.collection_id, JSON.stringify(query.body));

    const collection = await api.request("DELETE", `/v1/syncs/${sync.body.id}/collections/a%00b`);
    assert.equal(collection.status, 400, JSON.stringify(collection.body));
    assert.ok(collection.body.validation_errors?.collection_id, JSON.stringify(collection.body));
  });

  test("a NUL in a payload key is replaced like one in a value (sanitized), never a 500", async () => {
    const response = await api.request("POST", `/v1/syncs/${sync.body.id}/records`, {
      body: { records: [{ ...record, upstream_id: "nul-key", payload: { "a\u0000b": "c\u0000" } }] },
    });
    assert.equal(response.status, 200, JSON.stringify(response.body));
    assert.equal(response.body.sanitized, 1);
  });
});
