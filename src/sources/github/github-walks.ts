/**
 * How GitHub's lists are walked without losing a change, as pure steps (page in, next position out).
 *
 * **Since walk** (issues, comments: `since` = updated at or after, `sort=updated&direction=asc`). Page
 * numbers are not a stable position: an item updated while we page moves to the end and every later item
 * shifts back, so page 2 would skip one. So after each page the walk starts again at page 1 with `since`
 * moved up to the page's last time (less the lookback): the bound is inclusive, and items at that second are
 * read again rather than skipped (a re-read identical to the stream's record is no change). Only when a
 * whole page lies within the lookback of its last item (more than a page of changes in the same seconds)
 * does it go on to the next page number with the same `since`.
 *
 * **Updated-descending walk** (pull requests: `/pulls` has no `since`): `sort=updated&direction=desc`, page
 * after page until an item older than the bookmark (less the lookback); the bookmark then moves to the newest
 * item of the walk. Items changed while we page move to the front: later pages show some items twice, none
 * skipped, and the moved ones are read at the next walk.
 */
import type { GithubItem } from "./github-lists.js";

export interface SinceWalk {
  /** The inclusive lower bound (ISO time), or null from the beginning. */
  since: string | null;
  page: number;
}

export interface DescWalk {
  /** Items updated at or after this (less the lookback) are new; null: every item is. */
  bookmark: string | null;
  page: number;
  /** The newest item seen in the walk under way. */
  top: string | null;
}

export interface Step<Walk> {
  /** The items of the page that are changes. */
  items: GithubItem[];
  next: Walk;
  more: boolean;
}

export function stepSince(
  walk: SinceWalk,
  page: { items: GithubItem[]; hasNext: boolean },
  lookbackMs: number,
): Step<SinceWalk> {
  const { items } = page;
  if (items.length === 0) return { items, next: { since: walk.since, page: 1 }, more: false };
  const last = maxTime(items);
  const moved = isoMinus(last, lookbackMs);
  const sinceMs = walk.since === null ? Number.NEGATIVE_INFINITY : Date.parse(walk.since);
  if (!page.hasNext) {
    const since = Date.parse(moved) > sinceMs ? moved : walk.since;
    return { items, next: { since, page: 1 }, more: false };
  }
  // progress by time when it leaves at least one item of this page behind, else by page number
  const movedMs = Date.parse(moved);
  if (movedMs > sinceMs && items.some((item) => Date.parse(item.updated_at) < movedMs))
    return { items, next: { since: moved, page: 1 }, more: true };
  return { items, next: { since: walk.since, page: walk.page + 1 }, more: true };
}

export function stepDesc(
  walk: DescWalk,
  page: { items: GithubItem[]; hasNext: boolean },
  lookbackMs: number,
): Step<DescWalk> {
  const floor = walk.bookmark === null ? Number.NEGATIVE_INFINITY : Date.parse(walk.bookmark) - lookbackMs;
  const items = page.items.filter((item) => Date.parse(item.updated_at) >= floor);
  const top = newer(walk.top, page.items.length > 0 ? maxTime(page.items) : null);
  const reachedOld = items.length < page.items.length;
  if (page.hasNext && !reachedOld)
    return { items, next: { bookmark: walk.bookmark, page: walk.page + 1, top }, more: true };
  return { items, next: { bookmark: newer(walk.bookmark, top), page: 1, top: null }, more: false };
}

function maxTime(items: GithubItem[]): string {
  let best = items[0]!.updated_at;
  for (const item of items) if (Date.parse(item.updated_at) > Date.parse(best)) best = item.updated_at;
  return best;
}

function newer(a: string | null, b: string | null): string | null {
  if (a === null) return b;
  if (b === null) return a;
  return Date.parse(b) > Date.parse(a) ? b : a;
}

/** `iso` less `ms`, in GitHub's format (whole seconds, UTC). */
export function isoMinus(iso: string, ms: number): string {
  return new Date(Math.floor((Date.parse(iso) - ms) / 1000) * 1000).toISOString().replace(".000Z", "Z");
}
