/**
 * Where a HubSpot sync's changes stand. A round visits every collection once (`pending`, in order); each
 * visit is a pass, read one page per call so every page commits with its position:
 *
 * - an object collection's pass searches its last-modified property in the window `[from, to]`, `to` pinned
 *   to HubSpot's time when the pass starts, page after page by `hs_object_id` greater than the last id
 *   read (`afterId`), then reads the archived list (`after`, HubSpot's token). The next pass starts at
 *   `to - lookback`: search is eventually consistent, and a record indexed late is caught by a later pass.
 * - the owners' pass lists the live owners, then the archived ones.
 */
import { ProviderError } from "../provider-http.js";

export type Phase = "search" | "live" | "archived";

export interface Pass {
  /** Inclusive lower bound of the search window (HubSpot's epoch ms). */
  from: number;
  /** The window's upper bound, pinned when the pass began; null before it begins. */
  to: number | null;
  /** Within the window, the last `hs_object_id` read. */
  afterId: string | null;
  phase: Phase;
  /** A list's next page (the archived list, or owners). */
  after: string | null;
}

export interface HubSpotCursor {
  /** HubSpot's time when the mark was taken: a collection's first pass starts there, less the lookback. */
  mark: number;
  /** Collections still to visit in this round. */
  pending: string[];
  passes: Record<string, Pass>;
}

const phases: readonly Phase[] = ["search", "live", "archived"];

function isPass(value: unknown): value is Pass {
  const p = value as Pass;
  return (
    typeof p === "object" &&
    p !== null &&
    typeof p.from === "number" &&
    (p.to === null || typeof p.to === "number") &&
    (p.afterId === null || typeof p.afterId === "string") &&
    phases.includes(p.phase) &&
    (p.after === null || typeof p.after === "string")
  );
}

export function asCursor(cursor: unknown): HubSpotCursor {
  const c = cursor as HubSpotCursor;
  if (
    typeof c !== "object" ||
    c === null ||
    typeof c.mark !== "number" ||
    !Array.isArray(c.pending) ||
    !c.pending.every((p) => typeof p === "string") ||
    typeof c.passes !== "object" ||
    c.passes === null ||
    !Object.values(c.passes).every(isPass)
  )
    throw new ProviderError(
      "invalid_answer",
      "the stored HubSpot change cursor is not one this version wrote",
    );
  return c;
}
