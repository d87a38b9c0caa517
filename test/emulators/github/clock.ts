/**
 * The emulator's idea of "now" for the times it stamps (`created_at`, `updated_at`: whole seconds, as GitHub
 * writes them) and for when a change becomes visible in lists. Real time shifted by an offset a test sets.
 * Rate limits use real time instead (rate-limits.ts), so moving the clock never opens a limit's window.
 */
export class EmulatorClock {
  private offsetMs = 0;

  constructor(private readonly source: () => number = Date.now) {}

  nowMs(): number {
    return this.source() + this.offsetMs;
  }

  advance(ms: number): void {
    this.offsetMs += ms;
  }
}

/** GitHub's timestamp format: ISO 8601 in UTC, whole seconds (`2026-12-04T09:00:00Z`). */
export function githubTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(".000Z", "Z");
}
