/**
 * The HTTP side: the OAuth token endpoint (refresh-token grant), then for the REST API: authenticates the
 * Bearer session, counts the request in the org's daily quota, applies injected faults, and routes to
 * versions, describe, query / queryAll (with `nextRecordsUrl` batches) and `/deleted`. Every answer carries
 * `Sforce-Limit-Info` and a `Date` by the emulator's clock; errors are Salesforce's `[{message, errorCode}]`.
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { EmulatorClock } from "../stripe/clock.js";
import {
  concurrentRequestsExceeded,
  invalidDateRange,
  invalidQueryLocator,
  invalidSession,
  notFound,
  OAuthError,
  SalesforceHttpError,
  serverUnavailable,
  totalRequestsExceeded,
  unknownException,
} from "./errors.js";
import type { Faults } from "./faults.js";
import type { OrgData, RecordState } from "./org-data.js";
import type { DailyQuota } from "./quota.js";
import type { LoggedRequest } from "./request-log.js";
import { describeObject, formatDatetime } from "./schema.js";
import { compareBy, matches, parseSoql, type SoqlQuery, type Values } from "./soql.js";
import type { Tokens } from "./tokens.js";

export const SUPPORTED_VERSIONS = ["58.0", "59.0", "60.0", "61.0", "62.0"];
const MAX_BATCH = 2000;
const LOCATOR_TTL_MS = 2 * 86_400_000;

export interface ServerContext {
  org: OrgData;
  tokens: Tokens;
  quota: DailyQuota;
  faults: Faults;
  log: LoggedRequest[];
  clock: EmulatorClock;
  /** Records per query batch at most (Salesforce: up to 2,000, sometimes fewer). */
  batchSize: () => number;
  /** What the token endpoint names as the instance (where the API lives). */
  instanceUrl: () => string;
  listeners: Set<(request: LoggedRequest) => void>;
  /** Open query locators by id. */
  locators: Map<string, Locator>;
  deletedIdLimit: number;
}

export interface Locator {
  query: SoqlQuery;
  all: boolean;
  ids: string[];
  offset: number;
  batch: number;
  expiresAt: number;
  version: string;
}

interface Reply {
  status: number;
  body: unknown;
}

export function createSalesforceServer(context: ServerContext): Server {
  return createServer((request, response) => {
    handle(context, context.locators, request, response).catch((error: unknown) => {
      console.error("salesforce emulator:", error);
      if (!response.headersSent) response.writeHead(500).end();
    });
  });
}

async function handle(
  context: ServerContext,
  locators: Map<string, Locator>,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const url = new URL(request.url ?? "/", "http://emulator");
  const method = request.method ?? "GET";
  const auth = request.headers.authorization;
  const token = auth?.startsWith("Bearer ")
    ? auth.slice(7)
    : auth?.startsWith("OAuth ")
      ? auth.slice(6)
      : null;
  const entry: LoggedRequest = {
    at: Date.now(),
    method,
    path: url.pathname,
    query: url.search.slice(1),
    token,
    status: 0,
    errorCode: null,
    destroyed: false,
  };
  context.log.push(entry);
  const body = await readBody(request);
  response.setHeader("Date", new Date(context.clock.nowMs()).toUTCString());

  if (url.pathname === "/services/oauth2/token") {
    let reply: Reply;
    try {
      if (method !== "POST") throw new OAuthError(400, "invalid_request", "must use HTTP POST");
      reply = { status: 200, body: context.tokens.refresh(new URLSearchParams(body), context.instanceUrl()) };
    } catch (error) {
      if (!(error instanceof OAuthError)) throw error;
      reply = { status: error.status, body: error.body() };
      entry.errorCode = error.error;
    }
    return send(response, entry, reply);
  }

  let reply: Reply;
  let destroy = false;
  try {
    if (!token || !context.tokens.valid(token)) throw invalidSession();
    if (!context.quota.admit()) throw totalRequestsExceeded();
    const latency = context.faults.latencyFor(url.pathname);
    if (latency > 0) await new Promise((resolve) => setTimeout(resolve, latency));
    const fault = context.faults.take(url.pathname);
    if (fault === "unknown_exception") throw unknownException();
    if (fault === "unavailable") throw serverUnavailable();
    if (fault === "concurrent_limit") throw concurrentRequestsExceeded();
    if (fault === "session_expired") {
      context.tokens.revoke(token);
      throw invalidSession();
    }
    destroy = fault === "destroy";
    for (const listener of context.listeners) listener(entry);
    reply = route(context, locators, method, url, request);
  } catch (error) {
    if (!(error instanceof SalesforceHttpError)) throw error;
    reply = { status: error.status, body: error.body() };
    entry.errorCode = error.errorCode;
  }
  response.setHeader("Sforce-Limit-Info", context.quota.header());
  if (destroy) {
    const json = JSON.stringify(reply.body);
    entry.status = reply.status;
    entry.destroyed = true;
    response.writeHead(reply.status, {
      "Content-Type": "application/json;charset=UTF-8",
      "Content-Length": Buffer.byteLength(json),
    });
    response.write(json.slice(0, Math.floor(json.length / 2)), () => response.socket?.destroy());
    return;
  }
  send(response, entry, reply);
}

function send(response: ServerResponse, entry: LoggedRequest, reply: Reply): void {
  const json = JSON.stringify(reply.body);
  entry.status = reply.status;
  response.writeHead(reply.status, {
    "Content-Type": "application/json;charset=UTF-8",
    "Content-Length": Buffer.byteLength(json),
  });
  response.end(json);
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => resolve(Buffer.concat(chunks).toString()));
    request.on("error", reject);
  });
}

function route(
  context: ServerContext,
  locators: Map<string, Locator>,
  method: string,
  url: URL,
  request: IncomingMessage,
): Reply {
  const parts = url.pathname.split("/").filter(Boolean);
  if (parts[0] !== "services" || parts[1] !== "data" || method !== "GET") throw notFound();
  if (parts.length === 2)
    return {
      status: 200,
      body: SUPPORTED_VERSIONS.map((v) => ({ label: `v${v}`, url: `/services/data/v${v}`, version: v })),
    };
  const version = parts[2]!.replace(/^v/, "");
  if (!SUPPORTED_VERSIONS.includes(version)) throw notFound();
  const base = `/services/data/v${version}`;
  const [resource, name, third, fourth] = parts.slice(3);
  const org = context.org;
  const now = context.clock.nowMs();
  if (resource === undefined)
    return {
      status: 200,
      body: {
        sobjects: `${base}/sobjects`,
        query: `${base}/query`,
        queryAll: `${base}/queryAll`,
        limits: `${base}/limits`,
      },
    };
  if (resource === "limits" && name === undefined)
    return {
      status: 200,
      body: {
        DailyApiRequests: { Max: context.quota.limit, Remaining: context.quota.limit - context.quota.used() },
      },
    };
  if ((resource === "query" || resource === "queryAll") && name === undefined) {
    const q = url.searchParams.get("q");
    if (!q) throw new SalesforceHttpError(400, "MALFORMED_QUERY", "A query string has to be specified");
    const query = parseSoql(q, org.objects);
    const all = resource === "queryAll";
    const values =
      (state: RecordState): Values =>
      (field) =>
        org.value(state, field, version, false);
    const rows: RecordState[] = [];
    for (const record of org.rows(query.object.name).values()) {
      const state = org.visible(record, now);
      if (!state || (state.isDeleted && !all)) continue;
      if (matches(query.where, values(state))) rows.push(state);
    }
    rows.sort(compareBy(query.orderBy, (row) => values(row as RecordState)));
    const limited = query.limit === null ? rows : rows.slice(0, query.limit);
    const batch = Math.min(context.batchSize(), requestedBatch(request));
    const locator: Locator = {
      query,
      all,
      ids: limited.map((r) => r.record.id),
      offset: 0,
      batch,
      expiresAt: now + LOCATOR_TTL_MS,
      version,
    };
    return { status: 200, body: nextBatch(context, locators, locator, randomLocatorId()) };
  }
  if (resource === "query" && name !== undefined) {
    const [id, offset] = name.split("-");
    const locator = locators.get(id ?? "");
    if (!locator || locator.expiresAt <= now || String(locator.offset) !== offset)
      throw invalidQueryLocator();
    return { status: 200, body: nextBatch(context, locators, locator, id!) };
  }
  if (resource === "sobjects") {
    if (name === undefined)
      return {
        status: 200,
        body: {
          encoding: "UTF-8",
          maxBatchSize: 200,
          sobjects: [...org.objects.values()].map((o) => {
            const { fields: _fields, ...rest } = describeObject(o, version);
            return rest;
          }),
        },
      };
    const spec = org.objects.get(name);
    if (!spec) throw notFound();
    if (third === "describe" && fourth === undefined)
      return { status: 200, body: describeObject(spec, version) };
    if (third === "deleted") return { status: 200, body: deletedBetween(context, name, url, now) };
    if (third !== undefined && fourth === undefined) {
      const record = org.rows(name).get(third);
      const state = record && org.visible(record, now);
      if (!state) throw notFound();
      if (state.isDeleted) throw new SalesforceHttpError(404, "ENTITY_IS_DELETED", "entity is deleted");
      return { status: 200, body: org.render(state, spec.fields, version) };
    }
  }
  throw notFound();
}

function randomLocatorId(): string {
  return `01g${randomBytes(8).toString("hex").slice(0, 12)}`;
}

/** `Sforce-Query-Options: batchSize=N` (200 to 2,000). */
function requestedBatch(request: IncomingMessage): number {
  const header = request.headers["sforce-query-options"];
  const match = typeof header === "string" ? /batchSize=(\d+)/.exec(header) : null;
  return match ? Math.max(200, Math.min(MAX_BATCH, Number(match[1]))) : MAX_BATCH;
}

function nextBatch(
  context: ServerContext,
  locators: Map<string, Locator>,
  locator: Locator,
  id: string,
): Record<string, unknown> {
  const org = context.org;
  const now = context.clock.nowMs();
  const slice = locator.ids.slice(locator.offset, locator.offset + locator.batch);
  const records = [];
  for (const recordId of slice) {
    const record = org.rows(locator.query.object.name).get(recordId);
    const state = record && org.visible(record, now);
    // a record deleted (or purged) since the query ran is left out of a later batch
    if (!state || (state.isDeleted && !locator.all)) continue;
    records.push(org.render(state, locator.query.fields, locator.version));
  }
  locator.offset += slice.length;
  const done = locator.offset >= locator.ids.length;
  if (done) locators.delete(id);
  else locators.set(id, locator);
  return {
    totalSize: locator.ids.length,
    done,
    ...(done ? {} : { nextRecordsUrl: `/services/data/v${locator.version}/query/${id}-${locator.offset}` }),
    records,
  };
}

function deletedBetween(
  context: ServerContext,
  object: string,
  url: URL,
  now: number,
): Record<string, unknown> {
  const startText = url.searchParams.get("start");
  const endText = url.searchParams.get("end");
  if (!startText || !endText)
    throw new SalesforceHttpError(400, "MALFORMED_QUERY", "start and end are required parameters");
  const minute = 60_000;
  const start = Math.floor(Date.parse(startText) / minute) * minute;
  const end = Math.floor(Math.min(Date.parse(endText), now) / minute) * minute;
  if (Number.isNaN(start) || Number.isNaN(Date.parse(endText)))
    throw new SalesforceHttpError(400, "MALFORMED_QUERY", "start and end must be ISO 8601 date-times");
  if (start > Date.parse(endText)) throw invalidDateRange("startDate must chronologically precede endDate");
  const { entries, earliestMs } = context.org.deleted(object, now);
  if (start < now - 30 * 86_400_000) throw invalidDateRange("startDate is more than 30 days ago");
  const within = entries.filter((e) => e.deletedMs >= start && e.deletedMs < end);
  if (within.length > context.deletedIdLimit)
    throw new SalesforceHttpError(
      400,
      "EXCEEDED_ID_LIMIT",
      `record limit reached. cannot submit more than ${context.deletedIdLimit} records into this call`,
    );
  return {
    deletedRecords: within.map((e) => ({ id: e.id, deletedDate: formatDatetime(e.deletedMs) })),
    earliestDateAvailable: formatDatetime(earliestMs),
    latestDateCovered: formatDatetime(end),
  };
}
