/**
 * Failures a test asks for: the next N requests (optionally only those whose path starts with a prefix or
 * matches a pattern) answer a 500, a 502 with GitHub's HTML error page (not JSON), a secondary rate limit,
 * or have their connection cut halfway through the body; and added latency per path.
 */
import { FaultRules } from "../fault-rules.js";

export type { PathMatch } from "../fault-rules.js";

export type FaultKind = "server_error" | "bad_gateway" | "secondary_limit" | "destroy";

export class Faults extends FaultRules<FaultKind> {
  constructor() {
    super("server_error");
  }
}
