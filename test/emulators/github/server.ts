/**
 * The HTTP side: the token (`Authorization: Bearer …` or `token …`), the secondary and primary limits,
 * injected faults, the routes, conditional requests (`If-None-Match` → 304, not counted), and the headers
 * GitHub sends (`x-ratelimit-*`, `x-github-request-id`, `etag`, `link`). Every request lands in the log.
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import {
  badCredentials,
  GithubHttpError,
  issueDeleted,
  movedPermanently,
  notAccessible,
  notFound,
  primaryLimit,
  secondaryLimit,
  serverError,
} from "./errors.js";
import type { Faults } from "./faults.js";
import { commentListRules, etagOf, issueListRules, listPage, matchesEtag, pullListRules } from "./listing.js";
import type { RateLimits } from "./rate-limits.js";
import { current, type GithubData, type Repository } from "./repository-data.js";
import type { LoggedRequest } from "./request-log.js";

export interface Token {
  userId: number;
  /** Lower-case `owner/name`s it may read; null: every repository. */
  repositories: Set<string> | null;
  permissions: { issues: boolean; pull_requests: boolean };
  revoked: boolean;
}

export interface ServerContext {
  data: GithubData;
  tokens: Map<string, Token>;
  limits: RateLimits;
  faults: Faults;
  log: LoggedRequest[];
  listeners: Set<(request: LoggedRequest) => void>;
  origin: () => string;
}

interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** The answer can be confirmed by a 304 (lists and objects). */
  cacheable?: boolean;
}

const docs = {
  issues: "https://docs.github.com/rest/issues/issues#list-repository-issues",
  issue: "https://docs.github.com/rest/issues/issues#get-an-issue",
  pulls: "https://docs.github.com/rest/pulls/pulls#list-pull-requests",
  comments: "https://docs.github.com/rest/issues/comments#list-issue-comments-for-a-repository",
  repository: "https://docs.github.com/rest/repos/repos#get-a-repository",
};

export function createGithubServer(context: ServerContext): Server {
  return createServer((request, response) => {
    handle(context, request, response).catch((error: unknown) => {
      console.error("github emulator:", error);
      if (!response.headersSent) response.writeHead(500).end();
    });
  });
}

async function handle(context: ServerContext, request: IncomingMessage, response: ServerResponse) {
  const arrived = Date.now();
  const url = new URL(request.url ?? "/", context.origin());
  const token = tokenFrom(request.headers.authorization);
  const entry: LoggedRequest = {
    at: arrived,
    method: request.method ?? "GET",
    path: url.pathname,
    query: url.search.slice(1),
    token,
    status: 0,
    destroyed: false,
  };
  context.log.push(entry);
  request.resume();
  const requestId = randomBytes(8).toString("hex").toUpperCase();
  const headers: Record<string, string> = {
    "content-type": "application/json; charset=utf-8",
    "x-github-api-version-selected": "2022-11-28",
    "x-github-request-id": requestId,
    "x-github-media-type": "github.v3; format=json",
  };
  let reply: Reply;
  let destroy = false;
  try {
    const holder = token === null ? undefined : context.tokens.get(token);
    if (token !== null && (!holder || holder.revoked)) throw badCredentials();
    if (holder && token !== null) {
      const secondary = context.limits.secondary;
      if (!context.limits.admitSecondary(token, arrived))
        throw secondaryLimit(requestId, secondary!.retryAfterSeconds, secondary!.status);
      const quota = context.limits.quota(token, arrived);
      if (url.pathname !== "/rate_limit" && quota.used >= quota.limit) {
        Object.assign(headers, context.limits.headers(quota));
        throw primaryLimit(holder.userId, requestId, context.limits.primaryStatus);
      }
    }
    const latency = context.faults.latencyFor(url.pathname);
    if (latency > 0) await new Promise((resolve) => setTimeout(resolve, latency));
    const fault = context.faults.take(url.pathname);
    if (fault === "server_error") throw serverError();
    if (fault === "secondary_limit") throw secondaryLimit(requestId, 1, 403);
    destroy = fault === "destroy";
    for (const listener of context.listeners) listener(entry);
    if (fault === "bad_gateway") reply = { status: 502 };
    else reply = route(context, holder, entry.method, url);
  } catch (error) {
    if (!(error instanceof GithubHttpError)) throw error;
    reply = { status: error.status, body: error.body, headers: error.headers };
  }

  let json = reply.body === undefined ? "" : `${JSON.stringify(reply.body)}\n`;
  let status = reply.status;
  if (reply.cacheable) {
    const etag = etagOf(json);
    headers.etag = etag;
    headers["cache-control"] = "private, max-age=60, s-maxage=60";
    headers.vary = "Accept, Authorization, Cookie, X-GitHub-OTP";
    const ifNoneMatch = request.headers["if-none-match"];
    if (matchesEtag(Array.isArray(ifNoneMatch) ? ifNoneMatch[0] : ifNoneMatch, etag)) {
      status = 304;
      json = "";
    }
  }
  // every answer to a known token counts against its hour, but a 304 and /rate_limit
  if (token !== null) {
    const holder = context.tokens.get(token);
    if (holder && !holder.revoked) {
      const quota = context.limits.quota(token, arrived);
      const spent = status === 403 && headers["x-ratelimit-remaining"] === "0";
      if (status !== 304 && url.pathname !== "/rate_limit" && !spent) quota.used += 1;
      Object.assign(headers, context.limits.headers(quota));
    }
  }
  Object.assign(headers, reply.headers ?? {});
  entry.status = status;
  if (status === 502) {
    // GitHub's edge answers a bad gateway with an HTML page, not JSON
    const page =
      "<!DOCTYPE html><html><head><title>Unicorn! · GitHub</title></head><body>No server is currently available to service your request.</body></html>";
    response.writeHead(502, { "content-type": "text/html", "content-length": Buffer.byteLength(page) });
    response.end(page);
    return;
  }
  if (status === 304) {
    response.writeHead(304, headers);
    response.end();
    return;
  }
  headers["content-length"] = String(Buffer.byteLength(json));
  response.writeHead(status, headers);
  if (destroy) {
    entry.destroyed = true;
    response.write(json.slice(0, Math.floor(json.length / 2)), () => response.socket?.destroy());
    return;
  }
  response.end(json);
}

function tokenFrom(authorization: string | undefined): string | null {
  const match = /^(?:bearer|token)\s+(\S+)$/i.exec(authorization ?? "");
  return match ? match[1]! : null;
}

function route(context: ServerContext, token: Token | undefined, method: string, url: URL): Reply {
  const parts = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
  const now = context.data.clock.nowMs();
  if (method !== "GET") throw notFound();
  if (parts.length === 1 && parts[0] === "rate_limit") return rateLimitReply(context, token);
  if (parts[0] === "repositories" && parts.length === 4 && parts[2] === "issues") {
    const repository = context.data.repositoryById(Number(parts[1]));
    if (!repository || !canSee(token, repository)) throw notFound(docs.issue);
    return issueReply(context, token, repository, parts[3]!);
  }
  if (parts[0] !== "repos" || parts.length < 3) throw notFound();
  const repository = context.data.repositories.get(`${parts[1]}/${parts[2]}`.toLowerCase());
  const rest = parts.slice(3);
  if (!repository || !canSee(token, repository))
    throw notFound(rest.length === 0 ? docs.repository : docs.issues);
  if (rest.length === 0) return { status: 200, body: repository.object, cacheable: true };
  const self = `${context.origin()}${url.pathname}${url.search}`;
  if (rest[0] === "issues" && rest.length === 1) {
    need(token, "issues", docs.issues);
    const page = listPage(repository.issues.values(), now, url.searchParams, issueListRules, self);
    return listReply(page);
  }
  if (rest[0] === "issues" && rest[1] === "comments" && rest.length === 2) {
    need(token, "issues", docs.comments);
    const page = listPage(repository.comments.values(), now, url.searchParams, commentListRules, self);
    return listReply(page);
  }
  if (rest[0] === "issues" && rest.length === 2) {
    need(token, "issues", docs.issue);
    return issueReply(context, token, repository, rest[1]!);
  }
  if (rest[0] === "pulls" && rest.length === 1) {
    need(token, "pull_requests", docs.pulls);
    const page = listPage(repository.pulls.values(), now, url.searchParams, pullListRules, self);
    return listReply(page);
  }
  if (rest[0] === "pulls" && rest.length === 2) {
    need(token, "pull_requests", docs.pulls);
    const row = repository.pulls.get(Number(rest[1]));
    if (!row) throw notFound(docs.pulls);
    return { status: 200, body: current(row), cacheable: true };
  }
  throw notFound();
}

function listReply(page: { items: unknown[]; link: string | undefined }): Reply {
  return {
    status: 200,
    body: page.items,
    cacheable: true,
    ...(page.link ? { headers: { link: page.link } } : {}),
  };
}

function issueReply(
  context: ServerContext,
  token: Token | undefined,
  repository: Repository,
  number: string,
): Reply {
  const row = repository.issues.get(Number(number));
  if (!row) throw notFound(docs.issue);
  if (row.movedTo) {
    const to = context.data.repositoryById(row.movedTo.repositoryId);
    if (to && canSee(token, to))
      throw movedPermanently(`${context.origin()}/repositories/${to.id}/issues/${row.movedTo.number}`);
    throw notFound(docs.issue);
  }
  if (row.deleted) throw issueDeleted();
  return { status: 200, body: current(row), cacheable: true };
}

function rateLimitReply(context: ServerContext, token: Token | undefined): Reply {
  const name = token ? [...context.tokens.entries()].find(([, t]) => t === token)?.[0] : undefined;
  const quota = name
    ? context.limits.quota(name, Date.now())
    : { limit: 60, used: 0, resetAt: Math.floor(Date.now() / 1000) + 3600 };
  const core = {
    limit: quota.limit,
    remaining: Math.max(0, quota.limit - quota.used),
    reset: quota.resetAt,
    used: quota.used,
    resource: "core",
  };
  return { status: 200, body: { resources: { core }, rate: core } };
}

function canSee(token: Token | undefined, repository: Repository): boolean {
  // the emulator's repositories are private: without a token, or outside the token's list, they do not exist
  if (!token) return false;
  return token.repositories === null || token.repositories.has(repository.fullName.toLowerCase());
}

function need(token: Token | undefined, permission: keyof Token["permissions"], documentation: string) {
  if (!token?.permissions[permission]) throw notAccessible(documentation);
}
