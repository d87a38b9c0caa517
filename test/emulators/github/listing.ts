/**
 * GitHub's list semantics (https://docs.github.com/rest/using-the-rest-api/using-pagination-in-the-rest-api):
 * `per_page` (default 30, at most 100: more is quietly 100), `page` (from 1), a `Link` header with
 * rel="next", "last", "first" and "prev" as they apply; `since` (updated at or after, inclusive) where the
 * endpoint takes one (not `/pulls`: there it is ignored, as GitHub ignores unknown parameters); `sort` and
 * `direction` with each endpoint's defaults; ties broken by id, so a page boundary inside one second is
 * stable. A strong-enough ETag of the body, so `If-None-Match` can answer 304.
 */
import { createHash } from "node:crypto";
import { validationFailed } from "./errors.js";
import { listed, type Versioned } from "./repository-data.js";
import type { JsonObject } from "./shapes.js";

export interface ListRules {
  sorts: readonly string[];
  defaultSort: string;
  /** The direction when none is asked for, given the sort. */
  defaultDirection(sort: string, sortAsked: boolean): "asc" | "desc";
  takesSince: boolean;
  takesState: boolean;
}

export interface Listed {
  items: JsonObject[];
  link: string | undefined;
}

export function listPage(
  rows: Iterable<Versioned>,
  now: number,
  query: URLSearchParams,
  rules: ListRules,
  selfUrl: string,
): Listed {
  const sortAsked = query.get("sort");
  const sort = sortAsked ?? rules.defaultSort;
  if (!rules.sorts.includes(sort)) throw validationFailed("sort", sort);
  const directionAsked = query.get("direction");
  if (directionAsked !== null && directionAsked !== "asc" && directionAsked !== "desc")
    throw validationFailed("direction", directionAsked);
  const direction = directionAsked ?? rules.defaultDirection(sort, sortAsked !== null);
  const state = rules.takesState ? (query.get("state") ?? "open") : "all";
  if (!["open", "closed", "all"].includes(state)) throw validationFailed("state", state);
  const sinceRaw = rules.takesSince ? query.get("since") : null;
  const since = sinceRaw === null ? undefined : Date.parse(sinceRaw);
  if (since !== undefined && Number.isNaN(since)) throw validationFailed("since", sinceRaw!);

  const shown: { row: Versioned; object: JsonObject }[] = [];
  for (const row of rows) {
    const object = listed(row, now);
    if (!object) continue;
    if (state !== "all" && object.state !== state) continue;
    if (since !== undefined && Date.parse(object.updated_at as string) < since) continue;
    shown.push({ row, object });
  }
  const key = (entry: { row: Versioned; object: JsonObject }) =>
    sort === "updated" ? Date.parse(entry.object.updated_at as string) : entry.row.created;
  const sign = direction === "asc" ? 1 : -1;
  shown.sort((a, b) => sign * (key(a) - key(b) || a.row.id - b.row.id));

  const perPage = Math.min(100, Math.max(1, Number.parseInt(query.get("per_page") ?? "30", 10) || 30));
  const page = Math.max(1, Number.parseInt(query.get("page") ?? "1", 10) || 1);
  const lastPage = Math.max(1, Math.ceil(shown.length / perPage));
  const items = shown
    .slice((page - 1) * perPage, page * perPage)
    .map((entry) => structuredClone(entry.object));
  const at = (n: number) => {
    const url = new URL(selfUrl);
    url.searchParams.set("page", String(n));
    return `<${url.href}>`;
  };
  const links: string[] = [];
  if (page > 1) links.push(`${at(page - 1)}; rel="prev"`);
  if (page < lastPage) links.push(`${at(page + 1)}; rel="next"`, `${at(lastPage)}; rel="last"`);
  if (page > 1) links.push(`${at(1)}; rel="first"`);
  return { items, link: links.length > 0 ? links.join(", ") : undefined };
}

export const issueListRules: ListRules = {
  sorts: ["created", "updated", "comments"],
  defaultSort: "created",
  defaultDirection: () => "desc",
  takesSince: true,
  takesState: true,
};

export const pullListRules: ListRules = {
  sorts: ["created", "updated", "popularity", "long-running"],
  defaultSort: "created",
  // "desc when sort is created or sort is not specified, otherwise asc"
  defaultDirection: (sort, asked) => (sort === "created" || !asked ? "desc" : "asc"),
  takesSince: false,
  takesState: true,
};

export const commentListRules: ListRules = {
  sorts: ["created", "updated"],
  defaultSort: "created",
  defaultDirection: () => "asc",
  takesSince: true,
  takesState: false,
};

/** A weak ETag of a JSON body, as GitHub sends for lists. */
export function etagOf(json: string): string {
  return `W/"${createHash("sha256").update(json).digest("hex").slice(0, 64)}"`;
}

/** Whether `If-None-Match` names this ETag (weak comparison, lists of tags, `*`). */
export function matchesEtag(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  const bare = (tag: string) => tag.trim().replace(/^W\//, "");
  return ifNoneMatch.split(",").some((tag) => tag.trim() === "*" || bare(tag) === bare(etag));
}
