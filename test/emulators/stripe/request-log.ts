/** What the emulator was asked and what it answered, for tests that assert call counts and pacing. */
export interface LoggedRequest {
  /** Real time in ms when the request was admitted or refused (the rate limiter's clock). */
  at: number;
  method: string;
  path: string;
  query: string;
  /** The API key sent, or null when none was. */
  key: string | null;
  /** The account the request acted on (the platform's or a `Stripe-Account`), once known. */
  account: string | null;
  status: number;
  requestId: string;
  /** The connection was cut before the response ended (fault injection). */
  destroyed: boolean;
}

/** The most entries that fall in any window of `windowMs` (a window starting at each entry, inclusive). */
export function busiestWindow(entries: readonly LoggedRequest[], windowMs = 1000): number {
  const times = entries.map((entry) => entry.at).sort((a, b) => a - b);
  let best = 0;
  let start = 0;
  for (let end = 0; end < times.length; end++) {
    while (times[end]! - times[start]! >= windowMs) start++;
    best = Math.max(best, end - start + 1);
  }
  return best;
}
