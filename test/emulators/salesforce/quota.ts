/**
 * The org's daily API request allocation: a rolling 24 hours by the emulator's clock (so advancing the
 * clock frees it), shared by every token of the org. Each admitted API request counts; a request refused
 * for the quota does not. `Sforce-Limit-Info: api-usage=used/limit` reports it on every answer.
 */
import type { EmulatorClock } from "../stripe/clock.js";

const DAY_MS = 86_400_000;

export class DailyQuota {
  private times: number[] = [];

  constructor(
    private readonly clock: EmulatorClock,
    public limit = 100_000,
  ) {}

  used(): number {
    const since = this.clock.nowMs() - DAY_MS;
    this.times = this.times.filter((t) => t > since);
    return this.times.length;
  }

  /** Counts one request; false when the allocation is spent (the request is refused, not counted). */
  admit(): boolean {
    if (this.used() >= this.limit) return false;
    this.times.push(this.clock.nowMs());
    return true;
  }

  /** As if `count` requests had just been made (another integration of the org). */
  spend(count: number): void {
    const now = this.clock.nowMs();
    for (let i = 0; i < count; i++) this.times.push(now);
  }

  reset(): void {
    this.times = [];
  }

  header(): string {
    return `api-usage=${this.used()}/${this.limit}`;
  }
}
