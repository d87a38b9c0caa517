import assert from "node:assert/strict";
import { test } from "node:test";
import { routeTable } from "../../src/api/server.js";
import { startTestService } from "../helpers/service.js";

const api = await startTestService();
const response = await api.request("GET", "/openapi.json", { token: null });
const doc = response.body;

const methods = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/** Every `$ref` in a JSON value. */
function refs(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const item of value) refs(item, out);
  else if (value && typeof value === "object") {
    for (const [key, child] of Object.entries(value)) {
      if (key === "$ref" && typeof child === "string") out.push(child);
      else refs(child, out);
    }
  }
  return out;
}

test("/openapi.json is an OpenAPI 3.1 document", () => {
  assert.equal(response.status, 200);
  assert.match(doc.openapi, /^3\.1\.\d+$/);
  assert.equal(typeof doc.info.title, "string");
  assert.equal(typeof doc.info.version, "string");
  assert.equal(typeof doc.paths, "object");
  assert.deepEqual(doc.components.securitySchemes.bearerAuth, { type: "http", scheme: "bearer" });
  assert.deepEqual(doc.security, [{ bearerAuth: [] }]);
});

test("it lists every route of the server, with its path parameters", () => {
  const routes = routeTable(api.service.server).filter((r) => r.method !== "HEAD");
  assert.ok(routes.length >= 10);
  for (const route of routes) {
    const path = route.url.replace(/:([A-Za-z_]+)/g, "{$1}");
    const operation = doc.paths[path]?.[route.method.toLowerCase()];
    assert.ok(operation, `${route.method} ${path} missing from the document`);
    const declared = (operation.parameters ?? [])
      .filter((p: { in: string }) => p.in === "path")
      .map((p: { name: string }) => p.name);
    const expected = [...path.matchAll(/\{([A-Za-z_]+)\}/g)].map((m) => m[1]);
    assert.deepEqual(declared.sort(), expected.sort(), `${route.method} ${path} path parameters`);
  }
});

test("each operation is well formed, and only /health and /openapi.json are open", () => {
  const operationIds = new Set<string>();
  for (const [path, item] of Object.entries<Record<string, Record<string, unknown>>>(doc.paths)) {
    assert.match(path, /^\//);
    for (const [method, operation] of Object.entries(item)) {
      assert.ok(methods.includes(method), `${path}: ${method} is not an HTTP method`);
      const responses = operation.responses as Record<string, { description?: unknown }>;
      assert.ok(responses && Object.keys(responses).length > 0, `${method} ${path} has responses`);
      for (const [status, reply] of Object.entries(responses)) {
        assert.match(status, /^([1-5]\d\d|default)$/);
        assert.equal(typeof reply.description, "string", `${method} ${path} ${status} has a description`);
      }
      if (path.startsWith("/v1/")) {
        assert.equal(operation.security, undefined, `${method} ${path} uses the document's bearer security`);
        assert.ok(responses["401"], `${method} ${path} documents 401`);
        assert.ok(operation.operationId, `${method} ${path} has an operationId`);
      } else {
        assert.deepEqual(operation.security, [], `${method} ${path} is open`);
      }
      if (operation.operationId) {
        assert.ok(
          !operationIds.has(operation.operationId as string),
          `operationId ${operation.operationId} twice`,
        );
        operationIds.add(operation.operationId as string);
      }
    }
  }
});

test("schemas are components, every $ref resolves, bodies refuse unknown fields", () => {
  const schemas = doc.components.schemas;
  for (const name of [
    "Sync",
    "Record",
    "IncomingRecordInput",
    "IngestResult",
    "Error",
    "PostgresTarget",
    "ConnectionTest",
    "Consumer",
    "VerifyResult",
    "TableFinding",
    "ConsumerEvent",
    "ServiceHealth",
  ]) {
    assert.ok(schemas[name], `components.schemas.${name}`);
  }
  for (const ref of refs(doc)) {
    const match = /^#\/components\/schemas\/(.+)$/.exec(ref);
    assert.ok(match && schemas[match[1]!], `$ref ${ref} resolves`);
  }
  const createSync = doc.paths["/v1/syncs"].post.requestBody.content["application/json"].schema;
  assert.equal(createSync.additionalProperties, false);
  assert.deepEqual(createSync.required.sort(), ["name", "provider"]);
  const createTarget = doc.paths["/v1/targets/postgres"].post.requestBody.content["application/json"].schema;
  assert.equal(createTarget.additionalProperties, false);
  assert.equal(JSON.stringify(schemas.PostgresTarget).includes("password"), false, "no password in answers");
  const createConsumer =
    doc.paths["/v1/consumers/postgres"].post.requestBody.content["application/json"].schema;
  assert.equal(createConsumer.additionalProperties, false);
  assert.deepEqual(createConsumer.required.sort(), ["filter", "name", "table", "target_id"]);
  const start = doc.paths["/v1/consumers/postgres/{id}/start"].post.responses;
  assert.ok(start["409"] && start["422"], "start documents table_invalid and target_unreachable");
  for (const field of ["state", "health", "lag", "stats", "create_table_sql", "filter", "table"]) {
    assert.ok(schemas.Consumer.properties[field], `Consumer.${field}`);
  }
  assert.equal(schemas.IncomingRecordInput.additionalProperties, false);
  assert.deepEqual(Object.keys(schemas.Error.properties).sort(), ["code", "summary", "validation_errors"]);
});

test("/openapi.json is valid against the official OpenAPI 3.1 JSON schema", async () => {
  const { Validator } = await import("@seriousme/openapi-schema-validator");
  const validator = new Validator();
  const result = await validator.validate(structuredClone(doc));
  assert.equal(validator.version, "3.1");
  assert.deepEqual(result.errors ?? [], [], JSON.stringify(result.errors, null, 2)?.slice(0, 2000));
  assert.equal(result.valid, true);
});
