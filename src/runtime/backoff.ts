/**
 * Capped exponential backoff with full jitter: retry number `attempt` (0 for the first) waits a random time
 * between `initialMs` and `min(maxMs, initialMs · 2^(attempt+1))`. The randomness is the point: after an
 * outage, every consumer of one target (or every listener of one store) would otherwise retry at the same
 * instants and meet the returning server in lock-step. The floor at `initialMs` keeps the first retry from
 * coming at once.
 */
export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
}

/** The delay before retry number `attempt`; `random` returns a number in [0, 1). */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(options.maxMs, options.initialMs * 2 ** Math.min(attempt + 1, 52));
  const floor = Math.min(options.initialMs, ceiling);
  return Math.round(floor + random() * (ceiling - floor));
}

/** The delays of one run of retries: `next()` for each failure, `reset()` after a success. */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly options: BackoffOptions,
    private readonly random: () => number = Math.random,
  ) {}

  next(): number {
    const delay = backoffDelay(this.attempt, this.options, this.random);
    this.attempt += 1;
    return delay;
  }

  reset(): void {
    this.attempt = 0;
  }

  /** Retries since the last reset. */
  get attempts(): number {
    return this.attempt;
  }
}
