/**
 * Failures a test asks for: the next N requests (optionally only those whose path starts with a prefix or
 * matches a pattern) answer Salesforce's 500 UNKNOWN_EXCEPTION, a 503, the concurrent long-running requests'
 * REQUEST_LIMIT_EXCEEDED, a 401 INVALID_SESSION_ID (the session ended: an OAuth client refreshes), or have
 * their connection cut halfway through the body; and added latency per path.
 */
import { FaultRules } from "../fault-rules.js";

export type { PathMatch } from "../fault-rules.js";

export type FaultKind =
  | "unknown_exception"
  | "unavailable"
  | "concurrent_limit"
  | "session_expired"
  | "destroy";

export class Faults extends FaultRules<FaultKind> {
  constructor() {
    super("unknown_exception");
  }
}
