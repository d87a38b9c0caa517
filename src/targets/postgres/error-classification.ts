/**
 * What an error from a target means for its consumer, decided by ONE table keyed by SQLSTATE, SQLSTATE
 * class, Node errno or driver message:
 * - `unreachable`: the target cannot be reached or logged into; the consumer waits for it and probes.
 * - `transient`: the write may succeed as is when retried soon (serialization, deadlock, lock, resources).
 * - `refused`: the target refuses the write (constraint, missing table or privilege, data); the consumer
 *   retries it with backoff, and applies nothing after it, until someone fixes the target. Every other
 *   error with a SQLSTATE, and any unknown error.
 *
 * Authentication failures (SQLSTATE class 28) are `unreachable` too, but only a changed credential ends
 * them: isAuthenticationFailure tells them apart for the health notes.
 */
import { SequinError } from "../../errors.js";

export type TargetErrorKind = "unreachable" | "refused" | "transient";

export interface TargetErrorClass {
  kind: TargetErrorKind;
  sqlstate?: string;
  /** The database's (or the network's) own message, prefixed with a plain cause where that helps. */
  message: string;
  /** The database's DETAIL line; may quote row values, so it is kept apart from `message`. */
  detail?: string;
}

/** The prefix of an authentication failure's message (SQLSTATE class 28: 28P01, 28000). */
const authenticationFailed = "authentication failed";

interface Rule {
  kind: TargetErrorKind;
  /** Prefix of the message, e.g. `connection refused: connect ECONNREFUSED 127.0.0.1:5432`. */
  label?: string;
}

/** Keys: `sqlstate:XXXXX`, `class:XX`, `errno:EXXX`, `message:<start of message>`, `sequin:<code>`. */
const rules: ReadonlyMap<string, Rule> = new Map<string, Rule>([
  ["errno:ECONNREFUSED", { kind: "unreachable", label: "connection refused" }],
  ["errno:ECONNRESET", { kind: "unreachable", label: "connection reset" }],
  ["errno:ETIMEDOUT", { kind: "unreachable", label: "connection timed out" }],
  ["errno:EHOSTUNREACH", { kind: "unreachable", label: "host unreachable" }],
  ["errno:ENETUNREACH", { kind: "unreachable", label: "network unreachable" }],
  ["errno:ENOTFOUND", { kind: "unreachable", label: "host not found" }],
  ["errno:EAI_AGAIN", { kind: "unreachable", label: "host lookup failed" }],
  ["errno:EPIPE", { kind: "unreachable", label: "connection lost" }],
  ["errno:DEPTH_ZERO_SELF_SIGNED_CERT", { kind: "unreachable", label: "TLS certificate not trusted" }],
  ["errno:SELF_SIGNED_CERT_IN_CHAIN", { kind: "unreachable", label: "TLS certificate not trusted" }],
  ["errno:UNABLE_TO_VERIFY_LEAF_SIGNATURE", { kind: "unreachable", label: "TLS certificate not trusted" }],
  ["errno:UNABLE_TO_GET_ISSUER_CERT_LOCALLY", { kind: "unreachable", label: "TLS certificate not trusted" }],
  ["errno:CERT_HAS_EXPIRED", { kind: "unreachable", label: "TLS certificate expired" }],
  [
    "errno:ERR_TLS_CERT_ALTNAME_INVALID",
    { kind: "unreachable", label: "TLS certificate does not match the host" },
  ],
  ["message:Connection terminated", { kind: "unreachable", label: "connection lost" }],
  ["message:timeout expired", { kind: "unreachable", label: "timeout" }],
  ["message:The server does not support SSL connections", { kind: "unreachable", label: "TLS unavailable" }],
  ["message:Client has encountered a connection error", { kind: "unreachable", label: "connection lost" }],
  ["message:Client was closed and is not queryable", { kind: "unreachable", label: "connection closed" }],
  ["sequin:target_unreachable", { kind: "unreachable" }],
  ["class:08", { kind: "unreachable", label: "connection failed" }],
  ["sqlstate:57P01", { kind: "unreachable", label: "server shut down" }],
  ["sqlstate:57P02", { kind: "unreachable", label: "server crashed" }],
  ["sqlstate:57P03", { kind: "unreachable", label: "server not accepting connections" }],
  ["class:28", { kind: "unreachable", label: authenticationFailed }],
  ["sqlstate:3D000", { kind: "unreachable" }],
  ["sqlstate:40001", { kind: "transient", label: "serialization failure" }],
  ["sqlstate:40P01", { kind: "transient", label: "deadlock" }],
  ["sqlstate:55P03", { kind: "transient", label: "lock not available" }],
  ["class:53", { kind: "transient", label: "insufficient resources" }],
  ["sqlstate:57014", { kind: "transient", label: "query canceled" }],
]);

const messageRules = [...rules].filter(([key]) => key.startsWith("message:"));

interface ErrorLike {
  message?: unknown;
  code?: unknown;
  severity?: unknown;
  detail?: unknown;
  errors?: unknown;
  cause?: unknown;
}

function sqlstateOf(e: ErrorLike): string | undefined {
  return typeof e.severity === "string" && typeof e.code === "string" && /^[0-9A-Z]{5}$/.test(e.code)
    ? e.code
    : undefined;
}

/** Node's AggregateError (one error per address tried) carries no message of its own. */
function inner(e: ErrorLike): ErrorLike[] {
  return Array.isArray(e.errors) ? (e.errors as ErrorLike[]) : [];
}

function messageOf(e: ErrorLike): string {
  const own = typeof e.message === "string" ? e.message : String(e);
  if (own !== "") return own;
  const parts = inner(e)
    .map(messageOf)
    .filter((m) => m !== "");
  return parts.length > 0 ? [...new Set(parts)].join("; ") : String(e.code ?? "unknown error");
}

function ruleFor(e: ErrorLike): Rule | undefined {
  const sqlstate = sqlstateOf(e);
  if (sqlstate) return rules.get(`sqlstate:${sqlstate}`) ?? rules.get(`class:${sqlstate.slice(0, 2)}`);
  if (e instanceof SequinError) return rules.get(`sequin:${e.code}`);
  const code = typeof e.code === "string" ? e.code : inner(e).find((i) => typeof i.code === "string")?.code;
  const byCode = typeof code === "string" ? rules.get(`errno:${code}`) : undefined;
  if (byCode) return byCode;
  const message = messageOf(e);
  return messageRules.find(([key]) => message.startsWith(key.slice("message:".length)))?.[1];
}

/** Classifies `err`, or the first error down its `cause` chain that the table knows. */
export function classifyTargetError(err: unknown): TargetErrorClass {
  const outer = (typeof err === "object" && err !== null ? err : { message: String(err) }) as ErrorLike;
  for (let e: ErrorLike | undefined = outer, depth = 0; e && depth < 10; depth++) {
    const rule = ruleFor(e);
    const sqlstate = sqlstateOf(e);
    if (rule || sqlstate) {
      const message = messageOf(e);
      const result: TargetErrorClass = {
        kind: rule?.kind ?? "refused",
        message: rule?.label ? `${rule.label}: ${message}` : message,
      };
      if (sqlstate) result.sqlstate = sqlstate;
      if (typeof e.detail === "string") result.detail = e.detail;
      return result;
    }
    e = typeof e.cause === "object" && e.cause !== null ? (e.cause as ErrorLike) : undefined;
  }
  return { kind: "refused", message: messageOf(outer) };
}

/**
 * Whether a recorded error is the target refusing the login (SQLSTATE 28P01 wrong password, 28000 unknown
 * user or no pg_hba.conf entry): by its SQLSTATE, or by the prefix classifyTargetError gave its message.
 */
export function isAuthenticationFailure(error: { message: string; sqlstate?: string | undefined }): boolean {
  if (error.sqlstate) return error.sqlstate.startsWith("28");
  return error.message.includes(`${authenticationFailed}: `);
}
