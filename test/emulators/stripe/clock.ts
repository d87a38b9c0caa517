/**
 * The emulator's idea of "now". Stripe stamps objects and events in whole unix seconds and forgets events after
 * 30 days, so tests need to move time: real time by default, shifted by an offset a test can set or advance.
 * Rate limiting and the request log use real time instead (see rate-limiter.ts), so a 31-day jump cannot
 * open or close a one-second window.
 */
export class EmulatorClock {
  private offsetMs = 0;

  constructor(private readonly source: () => number = Date.now) {}

  nowMs(): number {
    return this.source() + this.offsetMs;
  }

  nowSeconds(): number {
    return Math.floor(this.nowMs() / 1000);
  }

  advance(ms: number): void {
    this.offsetMs += ms;
  }

  setOffset(ms: number): void {
    this.offsetMs = ms;
  }

  get offset(): number {
    return this.offsetMs;
  }
}

export const DAY_MS = 86_400_000;
