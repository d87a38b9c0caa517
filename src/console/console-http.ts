/** Answering console requests: whole pages, htmx fragments and redirects, with the headers they share. */
import type { FastifyReply, FastifyRequest } from "fastify";
import { errorReply } from "../api/error-envelope.js";
import { notFound } from "../errors.js";
import type { Html } from "./html.js";
import { alert, page } from "./layout.js";

export function isHtmx(request: FastifyRequest): boolean {
  return request.headers["hx-request"] === "true";
}

export function sendHtml(reply: FastifyReply, body: Html, status = 200): FastifyReply {
  return reply.code(status).type("text/html; charset=utf-8").send(body.text);
}

/** After an htmx action: the browser goes to `url` (a whole page load). */
export function hxRedirect(reply: FastifyReply, url: string): FastifyReply {
  return reply.code(200).header("hx-redirect", url).type("text/html; charset=utf-8").send("");
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The id in the path, which must be a UUID: anything else is a page that does not exist. */
export function idParam(request: FastifyRequest, what: string): string {
  const id = (request.params as Record<string, string | undefined>).id ?? "";
  if (!uuidPattern.test(id)) throw notFound(what, id);
  return id;
}

const securityHeaders: Record<string, string> = {
  "content-security-policy":
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "same-origin",
};

export async function withSecurityHeaders(_request: FastifyRequest, reply: FastifyReply): Promise<void> {
  for (const [name, value] of Object.entries(securityHeaders)) reply.header(name, value);
  if (!reply.hasHeader("cache-control")) reply.header("cache-control", "no-store");
}

/**
 * Errors of console requests: an htmx action shows the message in the page's flash area (answered 200,
 * so htmx swaps it in); a page load gets an error page with the status.
 */
export function consoleErrorHandler(log: { error(obj: object, msg: string): void }) {
  return (error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const { status, body } = errorReply(error);
    if (status >= 500) {
      const e = error as { name?: string; message?: string; code?: unknown };
      log.error(
        { err: { type: e.name, message: e.message, code: e.code }, url: request.url },
        "console request failed",
      );
    }
    if (isHtmx(request)) {
      reply.header("hx-retarget", "#flash").header("hx-reswap", "innerHTML");
      return sendHtml(reply, alert("error", body.summary));
    }
    return sendHtml(reply, page({ title: "Error", body: alert("error", body.summary) }), status);
  };
}
