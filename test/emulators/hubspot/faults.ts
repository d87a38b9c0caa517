/**
 * Failures a test asks for: the next N requests (optionally only those whose path starts with a prefix or
 * matches a pattern) answer a 500, a ten-second-limit 429, a 403 for a scope the token lacks, or have their
 * connection cut halfway through the body; and added latency per path.
 */
export type FaultKind = "error" | "rate_limit" | "destroy" | "missing_scopes";
export type PathMatch = string | RegExp;

const matches = (path: string, match: PathMatch | undefined) =>
  match === undefined || (typeof match === "string" ? path.startsWith(match) : match.test(path));

export class Faults {
  private rules: { kind: FaultKind; remaining: number; path: PathMatch | undefined }[] = [];
  private latencies: { ms: number; path: PathMatch | undefined }[] = [];

  failNext(count: number, options: { kind?: FaultKind; path?: PathMatch } = {}): void {
    this.rules.push({ kind: options.kind ?? "error", remaining: count, path: options.path });
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
