/**
 * The HTTP side: the token endpoint, then for every CRM call authentication (401 with HubSpot's
 * categories), the limits (429 bodies naming the policy; `X-HubSpot-RateLimit-*` headers on answers other
 * than search), injected faults and latency, then the routes: account details, properties, object lists
 * (`after`, `properties`, `archived`), reads, search, owners. `Date` is the emulator's clock. Every request
 * lands in the request log.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { EmulatorClock } from "../stripe/index.js";
import {
  HubSpotHttpError,
  internalError,
  missingScopes,
  notFound,
  rateLimited,
  unauthorized,
  unknownRoute,
  validationError,
} from "./errors.js";
import type { Faults } from "./faults.js";
import type { Limits } from "./limits.js";
import type { Owner, PortalData, StoredObject } from "./portal-data.js";
import { modifiedProperty, OBJECT_TYPES, type ObjectType, propertyDefinition } from "./properties.js";
import type { HubSpotRequest } from "./request-log.js";
import { parseSearch, runSearch } from "./search.js";
import type { Tokens } from "./tokens.js";

/** The longest request line the emulator takes (a list that names every property of an object may not fit). */
export const MAX_URL_LENGTH = 16_384;

export interface ServerContext {
  data: PortalData;
  tokens: Tokens;
  limits: Limits;
  faults: Faults;
  clock: EmulatorClock;
  log: HubSpotRequest[];
  listeners: Set<(request: HubSpotRequest) => void>;
}

interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export function createHubSpotServer(context: ServerContext): Server {
  // a header limit above the URL limit, so a long URL gets HubSpot's 414 rather than Node's 431
  return createServer({ maxHeaderSize: 4 * MAX_URL_LENGTH }, (request, response) => {
    handle(context, request, response).catch((error: unknown) => {
      console.error("hubspot emulator:", error);
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
  if ((request.url ?? "").length > MAX_URL_LENGTH) {
    // HubSpot's front end refuses a URL this long before the API sees it, in HTML
    context.log.push({
      at: receivedAt,
      method: request.method ?? "GET",
      path: "",
      query: "",
      body: "",
      install: null,
      search: false,
      status: 414,
      destroyed: false,
    });
    request.resume();
    response
      .writeHead(414, { "Content-Type": "text/html" })
      .end("<html><body><h1>414 Request-URI Too Large</h1></body></html>");
    return;
  }
  const url = new URL(request.url ?? "/", "http://emulator");
  const method = request.method ?? "GET";
  const text = await readBody(request);
  const search = method === "POST" && /^\/crm\/v3\/objects\/[^/]+\/search$/.test(url.pathname);
  const entry: HubSpotRequest = {
    at: receivedAt,
    method,
    path: url.pathname,
    query: url.search.slice(1),
    body: text,
    install: null,
    search,
    status: 0,
    destroyed: false,
  };
  context.log.push(entry);
  let reply: Reply;
  let destroy = false;
  try {
    if (method === "POST" && url.pathname === "/oauth/v1/token") {
      const refreshed = context.tokens.refresh(new URLSearchParams(text));
      reply = { status: refreshed.ok ? 200 : 400, body: refreshed.body };
    } else {
      const auth = context.tokens.authorize(request.headers.authorization);
      entry.install = auth.install ?? null;
      if (!auth.ok) throw unauthorized(auth.category, auth.message);
      const refusal = context.limits.admit(auth.install, search, receivedAt);
      if (refusal) throw rateLimited(refusal);
      const latency = context.faults.latencyFor(url.pathname);
      if (latency > 0) await new Promise((resolve) => setTimeout(resolve, latency));
      const fault = context.faults.take(url.pathname);
      if (fault === "error") throw internalError();
      if (fault === "rate_limit") throw rateLimited("TEN_SECONDLY_ROLLING");
      if (fault === "missing_scopes") throw missingScopes(scopeFor(url.pathname));
      destroy = fault === "destroy";
      for (const listener of context.listeners) listener(entry);
      reply = route(context, method, url, text);
      if (!search) reply.headers = context.limits.headers(auth.install, auth.privateApp);
    }
  } catch (error) {
    if (!(error instanceof HubSpotHttpError)) throw error;
    reply = { status: error.status, body: error.body() };
  }
  const json = JSON.stringify(reply.body);
  entry.status = reply.status;
  response.writeHead(reply.status, {
    "Content-Type": "application/json;charset=utf-8",
    "Content-Length": Buffer.byteLength(json),
    Date: new Date(context.clock.nowMs()).toUTCString(),
    ...reply.headers,
  });
  if (destroy) {
    entry.destroyed = true;
    response.write(json.slice(0, Math.floor(json.length / 2)), () => response.socket?.destroy());
    return;
  }
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

function route(context: ServerContext, method: string, url: URL, text: string): Reply {
  const { data } = context;
  const parts = url.pathname.split("/").filter(Boolean);
  const q = url.searchParams;
  if (method === "GET" && url.pathname === "/account-info/v3/details")
    return {
      status: 200,
      body: {
        portalId: data.portalId,
        accountType: "STANDARD",
        timeZone: "US/Eastern",
        companyCurrency: "USD",
        additionalCurrencies: [],
        utcOffset: "-05:00",
        utcOffsetMilliseconds: -18_000_000,
        uiDomain: "app.hubspot.com",
        dataHostingLocation: "na1",
      },
    };
  if (
    method === "GET" &&
    parts[0] === "crm" &&
    parts[1] === "v3" &&
    parts[2] === "owners" &&
    parts.length <= 4
  ) {
    const owners = [...data.owners.values()]
      .filter((o) => o.archived === (q.get("archived") === "true"))
      .filter((o) => !q.get("email") || o.email === q.get("email"))
      .sort((a, b) => Number(a.id) - Number(b.id));
    if (parts[3]) {
      const owner = data.owners.get(parts[3]);
      if (!owner) throw notFound();
      return { status: 200, body: renderOwner(owner) };
    }
    return { status: 200, body: listPage(owners, q, 500, renderOwner, url.pathname) };
  }
  if (parts[0] !== "crm" || parts[1] !== "v3") throw unknownRoute(method, url.pathname);
  const type = parts[3] as ObjectType;
  if (parts[2] === "properties" && method === "GET" && parts.length === 4) {
    if (!OBJECT_TYPES.includes(type)) throw unknownObjectType(type);
    const at = new Date(0).toISOString();
    return {
      status: 200,
      body: { results: data.propertyNames(type).map((name) => propertyDefinition(type, name, at)) },
    };
  }
  if (parts[2] !== "objects" || parts.length < 4 || parts.length > 5)
    throw unknownRoute(method, url.pathname);
  if (!OBJECT_TYPES.includes(type)) throw unknownObjectType(type);
  if (method === "POST" && parts[4] === "search") {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw validationError("Invalid input JSON on line 1, column 1");
    }
    const request = parseSearch(body);
    const found = runSearch(data.searchable(type), request);
    return {
      status: 200,
      body: {
        total: found.total,
        results: found.page.map((o) => renderObject(type, o, request.properties, data.propertyNames(type))),
        ...(found.next ? { paging: { next: { after: found.next } } } : {}),
      },
    };
  }
  if (method !== "GET") throw unknownRoute(method, url.pathname);
  const wanted = requestedProperties(q);
  if (parts[4] !== undefined) {
    const id = q.get("idProperty") ? undefined : parts[4];
    const object = (id && data.get(type, id)) || (id && data.get(type, data.survivorOf(id) ?? ""));
    const archived = q.get("archived") === "true";
    if (!object || (object.archivedAt !== null) !== archived) throw notFound();
    return { status: 200, body: renderObject(type, object, wanted, data.propertyNames(type)) };
  }
  const objects = data.list(type, q.get("archived") === "true");
  return {
    status: 200,
    body: listPage(
      objects,
      q,
      100,
      (o) => renderObject(type, o, wanted, data.propertyNames(type)),
      url.pathname,
    ),
  };
}

const unknownObjectType = (type: string) =>
  new HubSpotHttpError(400, `Unable to infer object type from: ${type}`, { category: "VALIDATION_ERROR" });

/** `properties` repeated and/or comma-separated; undefined when none were asked for. */
function requestedProperties(q: URLSearchParams): string[] | undefined {
  const all = q
    .getAll("properties")
    .flatMap((v) => v.split(","))
    .filter(Boolean);
  return all.length > 0 ? all : undefined;
}

/**
 * A list page after the opaque `after` (the last id, encoded); ids ascending. `limit` above the endpoint's
 * maximum is refused, as HubSpot does.
 */
function listPage<T extends { id: string }>(
  items: T[],
  q: URLSearchParams,
  maxLimit: number,
  render: (item: T) => unknown,
  path: string,
): Record<string, unknown> {
  const limit = q.get("limit") === null ? 10 : Number(q.get("limit"));
  if (!Number.isInteger(limit) || limit < 1 || limit > maxLimit)
    throw validationError(`limit must be between 1 and ${maxLimit}, not ${q.get("limit")}`);
  const after = q.get("after");
  let lastId = 0;
  if (after) {
    const decoded = Buffer.from(after, "base64url").toString();
    if (!/^\d+$/.test(decoded)) throw validationError(`Invalid after: ${after}`);
    lastId = Number(decoded);
  }
  const rest = items.filter((i) => Number(i.id) > lastId);
  const page = rest.slice(0, limit);
  const body: Record<string, unknown> = { results: page.map(render) };
  if (rest.length > limit) {
    const next = Buffer.from(page.at(-1)!.id).toString("base64url");
    body.paging = { next: { after: next, link: `https://api.hubapi.com${path}?after=${next}` } };
  }
  return body;
}

/** An object as answers show it: the properties asked for (null when unset), or the defaults. */
export function renderObject(
  type: ObjectType,
  object: StoredObject,
  wanted: string[] | undefined,
  all: string[],
) {
  const known = new Set(all);
  const names = wanted
    ? wanted.filter((n) => known.has(n))
    : ["createdate", "hs_object_id", modifiedProperty(type)];
  const properties: Record<string, string | null> = {};
  for (const name of [...new Set(names)].sort()) properties[name] = object.properties[name] ?? null;
  return {
    id: object.id,
    properties,
    createdAt: new Date(object.createdAt).toISOString(),
    updatedAt: new Date(object.updatedAt).toISOString(),
    archived: object.archivedAt !== null,
    ...(object.archivedAt !== null ? { archivedAt: new Date(object.archivedAt).toISOString() } : {}),
  };
}

export function renderOwner(owner: Owner) {
  return {
    id: owner.id,
    email: owner.email,
    type: "PERSON",
    firstName: owner.firstName,
    lastName: owner.lastName,
    userId: owner.userId,
    userIdIncludingInactive: owner.userId,
    createdAt: new Date(owner.createdAt).toISOString(),
    updatedAt: new Date(owner.updatedAt).toISOString(),
    archived: owner.archived,
  };
}

/** The read scope a path needs (as a 403 names it). */
function scopeFor(path: string): string {
  if (path.startsWith("/account-info")) return "oauth";
  if (path.startsWith("/crm/v3/owners")) return "crm.objects.owners.read";
  const type = path.split("/")[4] ?? "";
  if (type === "tickets") return "tickets";
  if (type === "products" || type === "line_items") return "e-commerce";
  return `crm.objects.${type}.read`;
}
