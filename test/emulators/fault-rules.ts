/**
 * Failures a test asks an emulator for, whatever the provider: the next N requests (optionally only those
 * whose path starts with a prefix or matches a pattern) answer a fault of the provider's kinds; and added
 * latency per path. Each emulator names its kinds and its default one (its `faults.ts`) and answers them.
 */
export type PathMatch = string | RegExp;

function matches(path: string, match: PathMatch | undefined): boolean {
  if (match === undefined) return true;
  return typeof match === "string" ? path.startsWith(match) : match.test(path);
}

export class FaultRules<Kind extends string> {
  private rules: { kind: Kind; remaining: number; path: PathMatch | undefined }[] = [];
  private latencies: { ms: number; path: PathMatch | undefined }[] = [];

  constructor(private readonly defaultKind: Kind) {}

  failNext(count: number, options: { kind?: Kind; path?: PathMatch } = {}): void {
    this.rules.push({ kind: options.kind ?? this.defaultKind, remaining: count, path: options.path });
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
  take(path: string): Kind | undefined {
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
