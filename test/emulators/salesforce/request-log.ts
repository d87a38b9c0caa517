/** What the emulator was asked and what it answered, for tests that assert call counts and pacing. */
export interface LoggedRequest {
  /** Real time in ms when the request arrived. */
  at: number;
  method: string;
  path: string;
  query: string;
  /** The access token sent, or null. */
  token: string | null;
  status: number;
  /** Salesforce's errorCode when the answer was an error. */
  errorCode: string | null;
  /** The connection was cut before the response ended (fault injection). */
  destroyed: boolean;
}

/** The most entries that fall in any window of `windowMs` (a window starting at each entry, inclusive). */
export function busiestWindow(entries: readonly { at: number }[], windowMs = 1000): number {
  const times = entries.map((entry) => entry.at).sort((a, b) => a - b);
  let best = 0;
  let start = 0;
  for (let end = 0; end < times.length; end++) {
    while (times[end]! - times[start]! >= windowMs) start++;
    best = Math.max(best, end - start + 1);
  }
  return best;
}
