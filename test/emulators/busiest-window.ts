/** How busy an emulator's request log got: the check that an allotment held, in every window the provider saw. */

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
