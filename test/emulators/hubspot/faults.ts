/**
 * Failures a test asks for: the next N requests (optionally only those whose path starts with a prefix or
 * matches a pattern) answer a 500, a ten-second-limit 429, a 403 for a scope the token lacks, or have their
 * connection cut halfway through the body; and added latency per path.
 */
import { FaultRules } from "../fault-rules.js";

export type { PathMatch } from "../fault-rules.js";

export type FaultKind = "error" | "rate_limit" | "destroy" | "missing_scopes";

export class Faults extends FaultRules<FaultKind> {
  constructor() {
    super("error");
  }
}
