/**
 * Failures a test asks for: the next N requests (optionally only those whose path starts with a prefix or
 * matches a pattern) answer Salesforce's 500 UNKNOWN_EXCEPTION, a 503, the concurrent long-running requests'
 * REQUEST_LIMIT_EXCEEDED, a 401 INVALID_SESSION_ID (the session ended: an OAuth client refreshes), or have
 * their connection cut halfway through the body; and added latency per path.
 */
export type FaultKind =
  | "unknown_exception"
  | "unavailable"
  | "concurrent_limit"
  | "session_expired"
  | "destroy";

export type PathMatch = string | RegExp;

interface FaultRule {
  kind: FaultKind;
  remaining: number;
  path: PathMatch | undefined;
}

function matches(path: string, match: PathMatch | undefined): boolean {
  if (match === undefined) return true;
  return typeof match === "string" ? path.startsWith(match) : match.test(path);
}

export class Faults {
  private rules: FaultRule[] = [];
  private latencies: { ms: number; path: PathMatch | undefined }[] = [];

  failNext(count: number, options: { kind?: FaultKind; path?: PathMatch } = {}): void {
    this.rules.push({ kind: options.kind ?? "unknown_exception", remaining: count, path: options.path });
  }

  addLatency(ms: number, options: { path?: PathMatch } = {}): void {
    this.latencies.push({ ms, path: options.path });
  }

  clear(): void {
    this.rules = [];
    this.latencies = [];
  }

  take(path: string): FaultKind | undefined {
    const rule = this.rules.find((r) => r.remaining > 0 && matches(path, r.path));
    if (!rule) return undefined;
    rule.remaining -= 1;
    this.rules = this.rules.filter((r) => r.remaining > 0);
    return rule.kind;
  }

  latencyFor(path: string): number {
    return Math.max(0, ...this.latencies.filter((r) => matches(path, r.path)).map((r) => r.ms));
  }
}
