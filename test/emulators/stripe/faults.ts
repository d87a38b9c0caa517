/**
 * Failures a test asks for: the next N requests (optionally only those whose path starts with a prefix or
 * matches a pattern) answer a 500, a lock-timeout 429, a rate-limit 429, or have their connection cut halfway
 * through the body; and added latency per path.
 */
import { FaultRules } from "../fault-rules.js";

export type { PathMatch } from "../fault-rules.js";

export type FaultKind = "api_error" | "lock_timeout" | "rate_limit" | "destroy";

export class Faults extends FaultRules<FaultKind> {
  constructor() {
    super("api_error");
  }
}
