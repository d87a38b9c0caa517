/**
 * The HTTP side: authenticates, applies the rate limit and injected faults, routes to lists, retrieves and
 * writes, and answers with the headers Stripe sends (`Request-Id`, `Stripe-Version` echoing the requested
 * version or the account's default, JSON bodies). Every request lands in the request log.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AccountData, Row } from "./account-data.js";
import type { EmulatorClock } from "./clock.js";
import { type CollectionName, collectionSpec, type JsonObject } from "./collections.js";
import {
  apiError,
  exclusiveParameters,
  invalidValue,
  lockTimeout,
  rateLimited,
  resourceMissing,
  StripeHttpError,
  unrecognizedUrl,
} from "./errors.js";
import type { Faults } from "./faults.js";
import { parseForm, typeFields } from "./form.js";
import { requestId } from "./ids.js";
import { KeyRing } from "./keys.js";
import { listPage, parseQuery, type Query, refuseUnknownParameters } from "./listing.js";
import type { RateLimiter } from "./rate-limiter.js";
import type { LoggedRequest } from "./request-log.js";

export interface ServerContext {
  accounts: Map<string, AccountData>;
  keys: KeyRing;
  limiter: RateLimiter;
  faults: Faults;
  log: LoggedRequest[];
  clock: EmulatorClock;
  apiVersion: string;
  /** Called for each admitted request before it is answered, so a test can change data at an exact point. */
  listeners: Set<(request: LoggedRequest) => void>;
}

interface Reply {
  status: number;
  body: unknown;
}

export function createStripeServer(context: ServerContext): Server {
  return createServer((request, response) => {
    handle(context, request, response).catch((error: unknown) => {
      // A bug in the emulator must fail the test that hit it loudly, not hang it.
      console.error("stripe emulator:", error);
      if (!response.headersSent) response.writeHead(500).end();
    });
  });
}

async function handle(
  context: ServerContext,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const receivedAt = Date.now();
  const url = new URL(request.url ?? "/", "http://emulator");
  const method = request.method ?? "GET";
  const key = KeyRing.keyFrom(request.headers.authorization);
  const entry: LoggedRequest = {
    at: receivedAt,
    method,
    path: url.pathname,
    query: url.search.slice(1),
    key,
    account: null,
    status: 0,
    requestId: requestId(),
    destroyed: false,
  };
  context.log.push(entry);
  const body = await readBody(request);
  const version = headerValue(request, "stripe-version") ?? context.apiVersion;

  let reply: Reply;
  let destroy = false;
  try {
    const account = context.keys.authorize(key, headerValue(request, "stripe-account"));
    entry.account = account;
    if (!context.limiter.admit(key!, receivedAt)) throw rateLimited("global-rate");
    const latency = context.faults.latencyFor(url.pathname);
    if (latency > 0) await new Promise((resolve) => setTimeout(resolve, latency));
    const fault = context.faults.take(url.pathname);
    if (fault === "api_error") throw apiError();
    if (fault === "lock_timeout") throw lockTimeout();
    if (fault === "rate_limit") throw rateLimited("global-rate");
    destroy = fault === "destroy";
    for (const listener of context.listeners) listener(entry);
    const data = context.accounts.get(account);
    if (!data) throw new Error(`account ${account} has no data`);
    reply = route(data, method, url, body);
  } catch (error) {
    if (!(error instanceof StripeHttpError)) throw error;
    const account = entry.account;
    const logUrl =
      account === null
        ? undefined
        : `https://dashboard.stripe.com/${context.accounts.get(account)?.connected ? `${account}/` : ""}test/logs/${entry.requestId}?t=${context.clock.nowSeconds()}`;
    reply = { status: error.status, body: error.body(logUrl) };
    for (const [name, value] of Object.entries(error.headers)) response.setHeader(name, value);
  }

  const json = `${JSON.stringify(reply.body, null, 2)}\n`;
  entry.status = reply.status;
  response.writeHead(reply.status, {
    "Content-Type": "application/json",
    "Content-Length": Buffer.byteLength(json),
    "Cache-Control": "no-cache, no-store",
    "Request-Id": entry.requestId,
    "Stripe-Version": version,
  });
  if (destroy) {
    // Headers and half the body, then the connection dies: the client sees a truncated response.
    entry.destroyed = true;
    response.write(json.slice(0, Math.floor(json.length / 2)), () => response.socket?.destroy());
    return;
  }
  response.end(json);
}

function headerValue(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => resolve(Buffer.concat(chunks).toString()));
    request.on("error", reject);
  });
}

function route(data: AccountData, method: string, url: URL, body: string): Reply {
  const parts = url.pathname.split("/").filter(Boolean);
  const query = parseQuery(url.search);
  if (parts[0] !== "v1" || parts.length < 2 || parts.length > 3) throw unrecognizedUrl(method, url.pathname);
  const [, name, id] = parts as [string, string, string | undefined];
  if (name === "events" && method === "GET") {
    return { status: 200, body: id === undefined ? listEvents(data, query) : retrieveEvent(data, id) };
  }
  const spec = collectionSpec(name);
  if (!spec) throw unrecognizedUrl(method, url.pathname);
  const collection = name as CollectionName;
  const rows = data.collection(collection);
  if (method === "GET" && id === undefined) {
    refuseUnknownParameters(query, [...spec.filters, ...(spec.listFilter ? ["status"] : [])]);
    const matches = (row: Row): boolean => {
      for (const filter of spec.filters) {
        const wanted = query.get(filter)?.[0];
        if (wanted !== undefined && String(row.object[filter]) !== wanted) return false;
      }
      const extra = spec.listFilter?.(row.object, query) ?? true;
      if (extra instanceof StripeHttpError) throw extra;
      return extra;
    };
    const live = [...rows.values()].filter((row) => !row.deleted);
    return {
      status: 200,
      body: listPage({ rows: live, matches, query, url: url.pathname, objectName: spec.object }),
    };
  }
  if (method === "GET") {
    const row = rows.get(id!);
    if (!row || (row.deleted && spec.deletion !== "tombstone"))
      throw resourceMissing(spec.object, id!, "id", 404);
    return { status: 200, body: row.deleted ? { id, object: spec.object, deleted: true } : row.object };
  }
  if (method === "POST" && id === undefined) {
    return { status: 200, body: data.create(collection, typeFields(parseForm(body), spec.defaults(0))) };
  }
  const existing = id === undefined ? undefined : rows.get(id);
  if (!existing || existing.deleted) {
    if (method === "POST" || (method === "DELETE" && spec.deletion !== "none")) {
      throw resourceMissing(spec.object, id ?? "", "id", 404);
    }
    throw unrecognizedUrl(method, url.pathname);
  }
  if (method === "POST") {
    return { status: 200, body: data.update(collection, id!, typeFields(parseForm(body), spec.defaults(0))) };
  }
  if (method === "DELETE" && spec.deletion !== "none")
    return { status: 200, body: data.remove(collection, id!) };
  throw unrecognizedUrl(method, url.pathname);
}

/** `type` takes one name and may end in `*` (`customer.*`); `types` up to 20 exact names; not both. */
function listEvents(data: AccountData, query: Query): JsonObject {
  refuseUnknownParameters(query, ["type", "types", "delivery_success"]);
  const type = query.get("type")?.[0];
  const types = query.get("types");
  if (type !== undefined && types !== undefined) throw exclusiveParameters(["type", "types"]);
  if (types && types.length > 20) throw invalidValue("types", "You may pass at most 20 event types.");
  const typeMatches = (eventType: string): boolean => {
    if (types) return types.includes(eventType);
    if (type === undefined) return true;
    return type.endsWith("*") ? eventType.startsWith(type.slice(0, -1)) : eventType === type;
  };
  return listPage({
    rows: data.eventRows().values(),
    matches: (row) => typeMatches(row.object.type as string),
    query,
    url: "/v1/events",
    objectName: "event",
  });
}

function retrieveEvent(data: AccountData, id: string): JsonObject {
  const row = data.eventRows().get(id);
  if (!row) throw resourceMissing("event", id, "id", 404);
  return structuredClone(row.object);
}
