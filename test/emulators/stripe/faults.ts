/**
 * Failures a test asks for: the next N requests (optionally only those whose path starts with a prefix or
 * matches a pattern) answer a 500, a lock-timeout 429, a rate-limit 429, or have their connection cut halfway
 * through the body; and added latency per path.
 */
export type FaultKind = "api_error" | "lock_timeout" | "rate_limit" | "destroy";

export type PathMatch = string | RegExp;

interface FaultRule {
  kind: FaultKind;
  remaining: number;
  path: PathMatch | undefined;
}

interface LatencyRule {
  ms: number;
  path: PathMatch | undefined;
}

function matches(path: string, match: PathMatch | undefined): boolean {
  if (match === undefined) return true;
  return typeof match === "string" ? path.startsWith(match) : match.test(path);
}

export class Faults {
  private rules: FaultRule[] = [];
  private latencies: LatencyRule[] = [];

  failNext(count: number, options: { kind?: FaultKind; path?: PathMatch } = {}): void {
    this.rules.push({ kind: options.kind ?? "api_error", remaining: count, path: options.path });
  }

  /** Delays matching responses by `ms` until cleared; the largest matching delay applies. */
  addLatency(ms: number, options: { path?: PathMatch } = {}): void {
    this.latencies.push({ ms, path: options.path });
  }

  clear(): void {
    this.rules = [];
    this.latencies = [];
  }

  /** The fault for this request, if any, spending one of its count. */
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

  get pending(): number {
    return this.rules.reduce((sum, rule) => sum + rule.remaining, 0);
  }
}
