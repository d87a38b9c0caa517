/**
 * Requests per second per API key, as a sliding window over real time: a request is admitted only when fewer
 * than the limit were admitted in the 1000 ms before it, so no one-second window of the request log ever holds
 * more admitted requests than the limit. Stripe's own limits are 25/s in test mode and 100/s live
 * (https://docs.stripe.com/rate-limits); the default here is test mode's.
 */
export const STRIPE_TEST_MODE_RATE = 25;

export class RateLimiter {
  private readonly admitted = new Map<string, number[]>();
  private readonly perKey = new Map<string, number | null>();

  constructor(private defaultPerSecond: number | null = STRIPE_TEST_MODE_RATE) {}

  /** `null` lifts the limit. Without `key`, sets the limit of every key that has none of its own. */
  setLimit(perSecond: number | null, key?: string): void {
    if (key === undefined) this.defaultPerSecond = perSecond;
    else this.perKey.set(key, perSecond);
  }

  limitFor(key: string): number | null {
    return this.perKey.has(key) ? this.perKey.get(key)! : this.defaultPerSecond;
  }

  /** Records and admits the request at `atMs`, or refuses it (a refused request does not use the budget). */
  admit(key: string, atMs: number): boolean {
    const limit = this.limitFor(key);
    if (limit === null) return true;
    const times = (this.admitted.get(key) ?? []).filter((t) => t > atMs - 1000);
    if (times.length >= limit) {
      this.admitted.set(key, times);
      return false;
    }
    times.push(atMs);
    this.admitted.set(key, times);
    return true;
  }
}
