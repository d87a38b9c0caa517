/**
 * Console sign-in sessions: a random id in an HttpOnly, SameSite=Strict cookie, kept in this process's
 * memory with an expiry. The API token is checked once at sign-in and never stored, in the cookie or here.
 * Sessions end with the process (sign in again after a restart).
 */
import { randomBytes } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";

export const sessionCookie = "sequin_session";
const sessionTtlMs = 12 * 3600 * 1000;
const maxSessions = 10_000;

export class ConsoleSessions {
  private readonly expiries = new Map<string, number>();

  create(): string {
    const now = Date.now();
    if (this.expiries.size >= maxSessions) {
      for (const [id, until] of this.expiries) if (until <= now) this.expiries.delete(id);
      if (this.expiries.size >= maxSessions) this.expiries.delete(this.expiries.keys().next().value!);
    }
    const id = randomBytes(32).toString("base64url");
    this.expiries.set(id, now + sessionTtlMs);
    return id;
  }

  valid(id: string | undefined): boolean {
    if (id === undefined) return false;
    const until = this.expiries.get(id);
    if (until === undefined) return false;
    if (until > Date.now()) return true;
    this.expiries.delete(id);
    return false;
  }

  end(id: string | undefined): void {
    if (id !== undefined) this.expiries.delete(id);
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
