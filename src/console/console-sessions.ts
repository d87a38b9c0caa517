/**
 * Console sign-in sessions: a random id in an HttpOnly, SameSite=Strict cookie; the store keeps only its
 * SHA-256 with an expiry, so a sign-in survives a restart and works on every process sharing the store
 * (behind a load balancer without sticky sessions), and a copy of the store opens no console. The API
 * token is checked once at sign-in and never stored, in the cookie or in the store. Signing out deletes
 * the session.
 */
import { createHash, randomBytes } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";
import type pg from "pg";
import {
  consoleSessionValid,
  deleteConsoleSession,
  deleteExpiredConsoleSessions,
  insertConsoleSession,
} from "./console-session-queries.js";

export const sessionCookie = "sequin_session";
const sessionTtlMs = 12 * 3600 * 1000;
/** The cookie's value: 32 random bytes in base64url. */
const sessionIdShape = /^[A-Za-z0-9_-]{43}$/;

function hashOf(id: string): Buffer {
  return createHash("sha256").update(id).digest();
}

export class ConsoleSessions {
  constructor(private readonly pool: pg.Pool) {}

  /** A new session; sessions expired meanwhile are deleted on the way. */
  async create(): Promise<string> {
    await deleteExpiredConsoleSessions(this.pool);
    const id = randomBytes(32).toString("base64url");
    await insertConsoleSession(this.pool, hashOf(id), sessionTtlMs / 1000);
    return id;
  }

  async valid(id: string | undefined): Promise<boolean> {
    if (id === undefined || !sessionIdShape.test(id)) return false;
    return consoleSessionValid(this.pool, hashOf(id));
  }

  async end(id: string | undefined): Promise<void> {
    if (id !== undefined && sessionIdShape.test(id)) await deleteConsoleSession(this.pool, hashOf(id));
  }
}

export function sessionIdOf(request: FastifyRequest): string | undefined {
  const header = request.headers.cookie;
  if (typeof header !== "string") return undefined;
  for (const part of header.split(";")) {
    const [name, ...value] = part.trim().split("=");
    if (name === sessionCookie) return value.join("=");
  }
  return undefined;
}

export function setSessionCookie(request: FastifyRequest, reply: FastifyReply, id: string | null): void {
  const secure = request.protocol === "https" ? "; Secure" : "";
  const value = id ?? "";
  const age = id === null ? 0 : Math.floor(sessionTtlMs / 1000);
  reply.header(
    "set-cookie",
    `${sessionCookie}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${age}${secure}`,
  );
}

/**
 * CSRF: besides SameSite=Strict, a state-changing request must come from our own pages: an htmx request
 * (a custom header no cross-site form can send) or one whose Origin is this server.
 */
export function sameOrigin(request: FastifyRequest): boolean {
  const origin = request.headers.origin;
  if (typeof origin === "string" && origin !== "null") {
    try {
      return new URL(origin).host === request.headers.host;
    } catch {
      return false;
    }
  }
  return request.headers["hx-request"] === "true";
}
