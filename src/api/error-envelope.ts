/**
 * Every error answers with one envelope: `{code, summary, validation_errors?, ...details}`. This module
 * maps what can go wrong in a request (our SequinErrors, request validation, fastify's own errors, store
 * outages, bugs) to that envelope and its status.
 */
import { STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import { isStoreOutage } from "../db/store-outage.js";
import { type ErrorCode, httpStatusByCode, SequinError } from "../errors.js";
import { formatPath, RequestValidationError, toSequinError } from "./request-validation.js";

export const errorEnvelopeSchema = z
  .looseObject({
    code: z.string().describe("stable error code, see docs/errors.md"),
    summary: z.string().describe("what happened and what to do"),
    validation_errors: z
      .record(z.string(), z.array(z.string()))
      .optional()
      .describe("field path (e.g. records[3].upstream_updated_at) → messages; only when input was invalid"),
  })
  .meta({ id: "Error" });

export type ErrorEnvelope = z.infer<typeof errorEnvelopeSchema>;

export interface ErrorReply {
  status: number;
  body: ErrorEnvelope;
}

export function envelopeOf(error: SequinError, status = httpStatusByCode[error.code]): ErrorReply {
  const body: ErrorEnvelope = { ...error.details, code: error.code, summary: error.message };
  if (error.validationErrors) body.validation_errors = error.validationErrors;
  return { status, body };
}

/** Longer path parameters (before decoding) are refused by the router. */
export const maxPathParamLength = 4096;

/** Fastify's own client errors (bad JSON, body too large, bad URL encoding, …), by status. */
function fastifyClientError(error: FastifyError): ErrorReply | undefined {
  const status = error.statusCode;
  if (status === undefined || status < 400 || status >= 500) return undefined;
  const codes: Record<number, ErrorCode> = {
    401: "unauthorized",
    404: "not_found",
    413: "payload_too_large",
  };
  const code = codes[status] ?? "validation_failed";
  let summary = error.message;
  if (error.code === "FST_ERR_BAD_URL") {
    const rule = "must be percent-encoded UTF-8 (no %ZZ, cut sequences or encoded surrogates)";
    return {
      status,
      body: {
        code,
        summary: `invalid path: ${rule}: encode ids with encodeURIComponent`,
        validation_errors: { path: [rule] },
      },
    };
  }
  if (error.code === "FST_ERR_MAX_PARAM_LENGTH") {
    const rule = `a path parameter must be at most ${maxPathParamLength} characters`;
    return {
      status: 400,
      body: { code, summary: `invalid path: ${rule} (ids are UUIDs)`, validation_errors: { path: [rule] } },
    };
  }
  if (error.code === "FST_ERR_CTP_BODY_TOO_LARGE") {
    summary = "request body is larger than the 32 MiB limit: send fewer records per request";
  } else if (error instanceof SyntaxError || error.code === "FST_ERR_CTP_INVALID_JSON_BODY") {
    summary = `request body is not valid JSON: ${error.message}`;
  }
  return { status, body: { code, summary } };
}

export function errorReply(error: unknown): ErrorReply {
  if (error instanceof SequinError) return envelopeOf(error);
  if (error instanceof RequestValidationError) return envelopeOf(toSequinError(error));
  if (isStoreOutage(error)) {
    return envelopeOf(
      new SequinError("store_unavailable", "the service's store is unreachable right now: retry later"),
    );
  }
  if (error instanceof Error && "statusCode" in error) {
    const reply = fastifyClientError(error as FastifyError);
    if (reply) return reply;
  }
  return envelopeOf(new SequinError("internal", "internal error: the service log has the details"));
}

/**
 * What we log of an unexpected error: never its SQL parameters, details or request data. An answer that
 * does not match its schema names the fields (paths and rules, not values).
 */
function loggable(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { type: typeof error };
  const code = (error as { code?: unknown }).code;
  const issues = (error.cause as { issues?: unknown } | undefined)?.issues;
  const fields = Array.isArray(issues)
    ? issues.map((i: z.core.$ZodIssue) => `${formatPath(i.path) || "(root)"}: ${i.message}`)
    : undefined;
  return {
    type: error.name,
    message: error.message,
    code,
    ...(fields ? { fields } : {}),
    stack: error.stack,
  };
}

/**
 * Requests Node's HTTP parser refuses before fastify sees them (headers over 16 KiB, broken request
 * lines, a request not received in time) answer with the envelope too, then the connection closes.
 */
export function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  if (error.code === "ECONNRESET" || socket.destroyed) return;
  let status = 400;
  let summary = "the request is not valid HTTP/1.1: check the request line and the headers";
  if (error.code === "HPE_HEADER_OVERFLOW") {
    status = 431;
    summary =
      "the request line and headers are larger than 16 KiB: shorten the URL, the query or the headers";
  } else if (error.code === "ERR_HTTP_REQUEST_TIMEOUT") {
    status = 408;
    summary = "the request was not received in time: send it again";
  }
  const body = JSON.stringify({ code: "validation_failed", summary } satisfies ErrorEnvelope);
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `Content-Type: application/json; charset=utf-8\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}

/** Answers an error with its envelope and status; bugs are logged. */
export function sendError(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const { status, body } = errorReply(error);
  if (status >= 500) {
    request.log.error({ err: loggable(error), route: request.routeOptions?.url }, "request failed");
  }
  if (status === 401) reply.header("www-authenticate", "Bearer");
  // the envelope is ours: written as it is, not through the route's response schema, which would drop a
  // validation_errors key such as "__proto__"
  return reply
    .code(status)
    .type("application/json; charset=utf-8")
    .serializer((payload) => JSON.stringify(payload))
    .send(body);
}

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler(sendError);

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split("?")[0];
    return reply.code(404).send({
      code: "not_found",
      summary: `no route ${request.method} ${path}: see GET /openapi.json for the routes`,
    } satisfies ErrorEnvelope);
  });
}
