/**
 * GitHub's limits per token, over real time:
 *
 * - **Primary**: `limit` requests per window (5,000 an hour for a personal access token); every answer
 *   carries `x-ratelimit-limit|remaining|used|reset|resource`; a 304 is not counted. Spent: 403 (or 429)
 *   with `x-ratelimit-remaining: 0` until `x-ratelimit-reset` (unix seconds).
 * - **Secondary**: at most `perSecond` requests in any one-second window (GitHub's "points per minute" and
 *   concurrency limits, scaled down for tests); over it: the secondary-limit message with `retry-after`.
 */
export interface Quota {
  limit: number;
  used: number;
  /** Unix seconds. */
  resetAt: number;
}

export interface SecondaryLimit {
  perSecond: number;
  retryAfterSeconds: number | null;
  status: 403 | 429;
}

export class RateLimits {
  private readonly quotas = new Map<string, Quota>();
  private readonly admitted = new Map<string, number[]>();
  private limit = 5000;
  private windowSeconds = 3600;
  secondary: SecondaryLimit | null = null;
  primaryStatus: 403 | 429 = 403;

  setPrimary(limit: number, windowSeconds: number): void {
    this.limit = limit;
    this.windowSeconds = windowSeconds;
    this.quotas.clear();
  }

  /** The token's quota as of `nowMs`, a new window begun when the last one ended. */
  quota(token: string, nowMs: number): Quota {
    const nowSeconds = Math.floor(nowMs / 1000);
    let quota = this.quotas.get(token);
    if (!quota || nowSeconds >= quota.resetAt) {
      quota = { limit: this.limit, used: 0, resetAt: nowSeconds + this.windowSeconds };
      this.quotas.set(token, quota);
    }
    return quota;
  }

  /** Whether the secondary limit admits one more request of `token` at `nowMs` (and counts it). */
  admitSecondary(token: string, nowMs: number): boolean {
    if (!this.secondary) return true;
    const times = (this.admitted.get(token) ?? []).filter((t) => t > nowMs - 1000);
    const admitted = times.length < this.secondary.perSecond;
    if (admitted) times.push(nowMs);
    this.admitted.set(token, times);
    return admitted;
  }

  headers(quota: Quota): Record<string, string> {
    return {
      "x-ratelimit-limit": String(quota.limit),
      "x-ratelimit-remaining": String(Math.max(0, quota.limit - quota.used)),
      "x-ratelimit-reset": String(quota.resetAt),
      "x-ratelimit-used": String(quota.used),
      "x-ratelimit-resource": "core",
    };
  }
}
