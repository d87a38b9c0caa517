/** What the emulator was asked and answered, for tests that assert call counts, bodies and pacing. */
export interface HubSpotRequest {
  /** Real time in ms when the request arrived (the limits' clock). */
  at: number;
  method: string;
  path: string;
  query: string;
  body: string;
  /** The install that called (a private app's token, an OAuth app's refresh token), once known. */
  install: string | null;
  search: boolean;
  status: number;
  /** The connection was cut before the answer ended (fault injection). */
  destroyed: boolean;
}

/** The most requests that fall in any window of `windowMs` (a window starting at each one, inclusive). */
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
