/**
 * Thousands of malformed requests over every route of the server (the route table, so new routes are
 * covered): no answer is a 5xx, every error answer has the envelope, the service stays up, and what
 * existed before is unchanged. Seeded: a failure prints its seed; rerun it with
 * `SEQUIN_FUZZ_SEED=<seed> npm test -- test/api/fuzz.test.ts` (`SEQUIN_FUZZ_REQUESTS` sets the count).
 */
import assert from "node:assert/strict";
import { randomInt } from "node:crypto";
import { once } from "node:events";
import { connect } from "node:net";
import { test } from "node:test";
import pino from "pino";
import { routeTable } from "../../src/api/server.js";
import { createSeedTarget } from "../helpers/consumer-world.js";
import { type FuzzRequest, Random, RequestFuzzer } from "../helpers/request-fuzzer.js";
import { type ApiResponse, startTestService } from "../helpers/service.js";

const seed = Number(process.env.SEQUIN_FUZZ_SEED ?? randomInt(2 ** 31));
const requestCount = Number(process.env.SEQUIN_FUZZ_REQUESTS ?? 4000);
const concurrency = 6;
/** No answer may take longer: a slow one stalls every request behind it. */
const maxRequestMs = 15_000;
const rerun = `seed ${seed}: rerun with SEQUIN_FUZZ_SEED=${seed} npm test -- test/api/fuzz.test.ts`;

/** The service's error log: what made an answer a 5xx. */
const errorLog: string[] = [];
const api = await startTestService(
  {},
  { log: pino({ level: "error" }, { write: (line: string) => errorLog.push(line.slice(0, 1500)) }) },
);
const target = await createSeedTarget();
const connection = {
  host: target.host,
  port: target.port,
  database: target.database,
  username: target.user,
  password: target.password,
  ssl: "disable",
};

async function created(method: string, path: string, body?: unknown): Promise<{ id: string }> {
  const response = await api.request(method, path, body === undefined ? {} : { body });
  assert.ok(response.status < 300, `${method} ${path}: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body;
}

function records(prefix: string, n: number) {
  return Array.from({ length: n }, (_, i) => ({
    collection_id: i % 2 ? "contact" : "deal",
    upstream_id: `${prefix}-${i}`,
    payload: { email: `${i}@example.com`, constructor: { prototype: i }, nested: { list: [i, "x", null] } },
    upstream_updated_at: `2024-05-01T12:00:${String(i % 60).padStart(2, "0")}Z`,
  }));
}

// What exists before the fuzzing and must not change: its ids never appear in a fuzzed request.
const keptSync = await created("POST", "/v1/syncs", { name: "kept", provider: "kept", metadata: { a: 1 } });
await created("POST", `/v1/syncs/${keptSync.id}/records`, { records: records("kept", 40) });
const keptTarget = await created("POST", "/v1/targets/postgres", { name: "kept-target", connection });
const keptConsumer = await created("POST", "/v1/consumers/postgres", {
  name: "kept-consumer",
  target_id: keptTarget.id,
  filter: { sync_id: keptSync.id },
  table: { schema: target.schema, name: "kept_records" },
});

// What the fuzzer may aim at: real ids, so that requests get past "not found".
const fuzzSync = await created("POST", "/v1/syncs", { name: "fuzz", provider: "fuzz" });
await created("POST", `/v1/syncs/${fuzzSync.id}/records`, { records: records("fuzz", 5) });
const fuzzTarget = await created("POST", "/v1/targets/postgres", { name: "fuzz-target", connection });
const fuzzConsumer = await created("POST", "/v1/consumers/postgres", {
  name: "fuzz-consumer",
  target_id: fuzzTarget.id,
  filter: { provider: "fuzz" },
  table: { schema: target.schema, name: "fuzz_records" },
});
const fuzzKey = await created("POST", "/v1/targets/postgres/ssh-keys");

/** Valid bodies the fuzzer mutates; routes not listed get one sampled from the OpenAPI document. */
const examples: Record<string, unknown> = {
  "POST /v1/syncs": {
    name: "fuzz-new",
    provider: "hubspot",
    collections: ["contact", "deal"],
    external_id: "ext-1",
    metadata: { region: "eu", tags: ["a", "b"], nested: { constructor: "x" } },
  },
  "PATCH /v1/syncs/:id": { name: "fuzz-renamed", collections: ["contact"], external_id: null, metadata: {} },
  "POST /v1/syncs/:id/records": {
    records: [
      {
        collection_id: "contact",
        upstream_id: "1",
        payload: { email: "a@b.c", properties: { n: 1, list: [1, "x", null], constructor: {} } },
        upstream_updated_at: "2024-05-01T12:00:00Z",
      },
      {
        collection_id: "deal",
        upstream_id: "2",
        deleted: true,
        upstream_updated_at: "2024-05-01T12:00:00.123456+02:00",
      },
    ],
  },
  "POST /v1/targets/postgres": { name: "fuzz-new-target", connection },
  "PATCH /v1/targets/postgres/:id": {
    name: "fuzz-target",
    connection: { port: target.port, ssl: "disable" },
  },
  "POST /v1/consumers/postgres": {
    name: "fuzz-new-consumer",
    target_id: fuzzTarget.id,
    filter: { provider: "fuzz" },
    table: { schema: target.schema, name: "fuzz_new" },
    lag_alert_seconds: 60,
  },
  "PATCH /v1/consumers/postgres/:id": {
    name: "fuzz-consumer",
    filter: { sync_id: fuzzSync.id },
    table: { schema: target.schema, name: "fuzz_records" },
    lag_alert_seconds: null,
  },
};

function validParam(url: string, name: string): string | undefined {
  if (name === "collection_id") return "contact";
  if (name !== "id") return undefined;
  if (url.startsWith("/v1/syncs/")) return fuzzSync.id;
  if (url.startsWith("/v1/targets/postgres/ssh-keys/")) return fuzzKey.id;
  if (url.startsWith("/v1/targets/postgres/")) return fuzzTarget.id;
  if (url.startsWith("/v1/consumers/postgres/")) return fuzzConsumer.id;
  return undefined;
}

// biome-ignore lint/suspicious/noExplicitAny: a JSON Schema from the OpenAPI document
type JsonSchema = any;
const doc = (await api.request("GET", "/openapi.json", { token: null })).body;

/** A value of a JSON Schema: a starting point for mutations, not necessarily valid. */
function sample(schema: JsonSchema, depth = 0): unknown {
  if (!schema || depth > 8) return null;
  if (schema.$ref) return sample(doc.components.schemas[schema.$ref.split("/").pop()], depth + 1);
  const choice = schema.anyOf ?? schema.oneOf;
  if (choice) return sample(choice[0], depth + 1);
  if (schema.enum) return schema.enum[0];
  switch (schema.type) {
    case "object":
      return Object.fromEntries(
        Object.entries(schema.properties ?? {}).map(([key, inner]) => [key, sample(inner, depth + 1)]),
      );
    case "array":
      return [sample(schema.items, depth + 1)];
    case "integer":
    case "number":
      return schema.minimum ?? 1;
    case "boolean":
      return true;
    case "string":
      return schema.format === "uuid" ? fuzzSync.id : "x";
    default:
      return {};
  }
}

const openApiPath = (url: string) => url.replace(/:([A-Za-z_]+)/g, "{$1}");
const operation = (method: string, url: string) => doc.paths[openApiPath(url)]?.[method.toLowerCase()];

function validQuery(url: string): string | undefined {
  const params = (operation("GET", url)?.parameters ?? []).filter((p: JsonSchema) => p.in === "query");
  if (params.length === 0) return undefined;
  return params.map((p: JsonSchema) => `${p.name}=${encodeURIComponent(String(sample(p.schema)))}`).join("&");
}

const routes = routeTable(api.service.server);
for (const route of routes) {
  const key = `${route.method} ${route.url}`;
  const body = operation(route.method, route.url)?.requestBody?.content?.["application/json"]?.schema;
  if (body && !(key in examples)) examples[key] = sample(body);
}

/** What must not change: the kept sync, its records, target and consumer, as the API shows them. */
async function keptState(): Promise<unknown> {
  const get = async (path: string) => {
    const response = await api.request("GET", path);
    assert.equal(response.status, 200, `${path}: ${JSON.stringify(response.body)}`);
    return response.body;
  };
  const consumer = await get(`/v1/consumers/postgres/${keptConsumer.id}`);
  const targetNow = await get(`/v1/targets/postgres/${keptTarget.id}`);
  return {
    sync: await get(`/v1/syncs/${keptSync.id}`),
    records: (await get(`/v1/syncs/${keptSync.id}/records?limit=1000`)).data,
    target: { id: targetNow.id, name: targetNow.name, connection: targetNow.connection },
    consumer: {
      id: consumer.id,
      name: consumer.name,
      target_id: consumer.target_id,
      filter: consumer.filter,
      table: consumer.table,
      state: consumer.state,
      create_table_sql: consumer.create_table_sql,
    },
  };
}

async function send(request: FuzzRequest): Promise<ApiResponse> {
  const response = await fetch(`${api.url}${request.path}`, {
    method: request.method,
    headers: request.headers,
    body: typeof request.body === "object" ? new Blob([new Uint8Array(request.body)]) : request.body,
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: the envelope check reports it
  }
  return { status: response.status, headers: response.headers, body };
}

function envelopeProblem(request: FuzzRequest, response: ApiResponse): string | undefined {
  if (request.method === "HEAD" || response.status < 400) return undefined;
  const type = response.headers.get("content-type") ?? "";
  if (!type.includes("application/json")) return `content-type ${type}`;
  const body = response.body as Record<string, unknown> | null;
  if (typeof body !== "object" || body === null) return "not a JSON object";
  if (typeof body.code !== "string" || body.code === "") return "no code";
  if (typeof body.summary !== "string" || body.summary === "") return "no summary";
  const errors = body.validation_errors;
  if (errors === undefined) return undefined;
  if (typeof errors !== "object" || errors === null || Array.isArray(errors)) return "validation_errors";
  for (const messages of Object.values(errors)) {
    if (!Array.isArray(messages) || messages.some((m) => typeof m !== "string")) return "validation_errors";
  }
  return undefined;
}

function describe(request: FuzzRequest, response: ApiResponse, problem: string): string {
  const body =
    request.body === undefined
      ? "no body"
      : typeof request.body === "string"
        ? JSON.stringify(request.body.slice(0, 200))
        : `${request.body.length} bytes`;
  return (
    `${request.method} ${request.path.slice(0, 200)} (${request.note}) body ${body}\n` +
    `  → ${response.status} ${problem}: ${JSON.stringify(response.body).slice(0, 400)}`
  );
}

test(`${requestCount} malformed requests over every route: no 5xx, always the envelope`, async () => {
  const before = await keptState();
  const prototypeKeys = Object.getOwnPropertyNames(Object.prototype);
  const fuzzer = new RequestFuzzer(seed, {
    routes,
    examples,
    validParam,
    validQuery,
    token: api.token,
  });
  const requests = Array.from({ length: requestCount }, () => fuzzer.next());

  const kinds = new Map<string, string>();
  // a request that holds the service up for seconds (a walk quadratic in the nesting, a regex that
  // backtracks) is a way to take it down
  let slowest = { ms: 0, request: "" };
  let failureCount = 0;
  const statuses = new Map<number, number>();
  let next = 0;
  const worker = async () => {
    while (next < requests.length) {
      const request = requests[next++]!;
      let response: ApiResponse;
      const started = performance.now();
      try {
        response = await send(request);
      } catch (error) {
        response = { status: 599, headers: new Headers(), body: String(error) };
      }
      const ms = performance.now() - started;
      if (ms > slowest.ms)
        slowest = { ms, request: `${request.method} ${request.path.slice(0, 200)} (${request.note})` };
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      const problem = response.status >= 500 ? "server error" : envelopeProblem(request, response);
      if (problem) {
        failureCount++;
        // the first of each kind, so that one frequent kind does not hide the others
        const kind = `${response.status} ${problem} ${(response.body as { code?: unknown })?.code ?? ""}`;
        if (!kinds.has(kind) && kinds.size < 12) kinds.set(kind, describe(request, response, problem));
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));

  const summary = [...statuses].sort(([a], [b]) => a - b).map(([s, n]) => `${s}×${n}`);
  assert.equal(
    failureCount,
    0,
    `${failureCount} of ${requestCount} answers failed (${rerun}); statuses ${summary.join(" ")}; first of each kind:\n${[...kinds.values()].join("\n")}\nservice log:\n${errorLog.slice(0, 5).join("")}`,
  );
  assert.ok(
    slowest.ms < maxRequestMs,
    `a request took ${Math.round(slowest.ms)} ms (${rerun}): ${slowest.request}`,
  );
  assert.deepEqual(
    Object.getOwnPropertyNames(Object.prototype),
    prototypeKeys,
    `prototype polluted (${rerun})`,
  );
  assert.equal(({} as Record<string, unknown>).polluted, undefined, `prototype polluted (${rerun})`);

  const health = await api.request("GET", "/health", { token: null });
  assert.equal(health.status, 200, `the service is not healthy after fuzzing (${rerun})`);
  assert.deepEqual(health.body, { status: "ok" });
  assert.deepEqual(await keptState(), before, `what existed before changed (${rerun})`);
});

/** What the service answers to raw bytes on a connection: the status and body, or "" when it only closes. */
async function rawExchange(bytes: Buffer): Promise<{ status: number; body: string } | undefined> {
  const { hostname, port } = new URL(api.url);
  const socket = connect(Number(port), hostname);
  const chunks: Buffer[] = [];
  socket.on("data", (chunk: Buffer) => chunks.push(chunk));
  socket.on("error", () => {});
  await once(socket, "connect");
  socket.end(bytes);
  const closed = once(socket, "close");
  const deadline = setTimeout(() => socket.destroy(), 10_000);
  await closed;
  clearTimeout(deadline);
  const text = Buffer.concat(chunks).toString("latin1");
  if (text === "") return undefined;
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 599);
  return { status, body: text.slice(text.indexOf("\r\n\r\n") + 4) };
}

test("bytes that are not HTTP: a 4xx with the envelope, or a closed connection", async () => {
  const random = new Random(seed);
  const auth = `Authorization: Bearer ${api.token}\r\n`;
  const cases: string[] = [
    "GET /v1/syncs\u0000 HTTP/1.1\r\nHost: x\r\n\r\n",
    `GET /v1/syncs HTTP/1.1\r\nHost: x\r\n${auth}X-Junk: a\u0000b\r\n\r\n`,
    `GET /v1/syncs HTTP/1.1\r\nHost: x\r\nX-Big: ${"x".repeat(20_000)}\r\n\r\n`,
    `GET /v1/syncs?${"q".repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
    "G@T /v1/syncs HTTP/1.1\r\nHost: x\r\n\r\n",
    "GET /v1/syncs HTTP/9.9\r\nHost: x\r\n\r\n",
    "GET /v1/syncs\r\n\r\n",
    `POST /v1/syncs HTTP/1.1\r\nHost: x\r\n${auth}Content-Length: abc\r\n\r\n{}`,
    `POST /v1/syncs HTTP/1.1\r\nHost: x\r\n${auth}Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n{}`,
    `POST /v1/syncs HTTP/1.1\r\nHost: x\r\n${auth}Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`,
    `POST /v1/syncs HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nContent-Length: 4\r\n\r\n\u00ff\u00fe{}`,
    `POST /v1/syncs HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\n{}`,
    `POST /v1/syncs HTTP/1.1\r\nHost: x\r\n${auth}Bad Header: 1\r\n\r\n`,
    `GET /v1/syncs/%00 HTTP/1.1\r\nHost: x\r\n${auth}\r\n`,
    `GET /v1/syncs/\u00ff\u00fe HTTP/1.1\r\nHost: x\r\n${auth}\r\n`,
    "\r\n\r\n",
  ];
  for (let i = 0; i < 40; i++) {
    const length = 1 + random.int(400);
    cases.push(Array.from({ length }, () => String.fromCharCode(random.int(256))).join("") + "\r\n\r\n");
  }
  const failures: string[] = [];
  for (const text of cases) {
    const answer = await rawExchange(Buffer.from(text, "latin1"));
    if (!answer) continue;
    let problem: string | undefined;
    if (answer.status >= 500) problem = "server error";
    else if (answer.status >= 400) {
      try {
        const body = JSON.parse(answer.body);
        if (typeof body.code !== "string" || typeof body.summary !== "string") problem = "no envelope";
      } catch {
        problem = "not JSON";
      }
    }
    if (problem && failures.length < 8) {
      failures.push(
        `${JSON.stringify(text.slice(0, 120))} → ${answer.status} ${problem}: ${answer.body.slice(0, 300)}`,
      );
    }
  }
  assert.deepEqual(failures, [], `(${rerun})`);
  const health = await api.request("GET", "/health", { token: null });
  assert.equal(health.status, 200, `the service is not healthy after raw bytes (${rerun})`);
});
