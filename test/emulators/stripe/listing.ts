/**
 * Stripe's list semantics, shared by every list endpoint and by /v1/events (https://docs.stripe.com/api/pagination):
 * newest first, `limit` 1–100 (default 10), `starting_after` / `ending_before` object-id cursors that exclude
 * each other, `created` filters, and `{object: "list", data, has_more, url}`. Rows created in the same second
 * keep one order (later insert first), so a cursor in the middle of a second neither skips nor repeats rows.
 */

import type { Row } from "./account-data.js";
import type { JsonObject } from "./collections.js";
import {
  exclusiveParameters,
  integerTooLarge,
  integerTooSmall,
  invalidInteger,
  resourceMissing,
  StripeHttpError,
} from "./errors.js";

export type Query = Map<string, string[]>;

/** Parses a query string; `types[]=a`, `types[0]=a` and `types=a` all read as the list `types`. */
export function parseQuery(search: string): Query {
  const query: Query = new Map();
  for (const [rawKey, value] of new URLSearchParams(search)) {
    const key = rawKey.replace(/\[\d*\]$/, "");
    query.set(key, [...(query.get(key) ?? []), value]);
  }
  return query;
}

/** The parameter a query names, up to its first bracket: `created[gt]` → `created`. */
export function baseName(key: string): string {
  const bracket = key.indexOf("[");
  return bracket === -1 ? key : key.slice(0, bracket);
}

export function refuseUnknownParameters(query: Query, allowed: Iterable<string>): void {
  const known = new Set(["limit", "starting_after", "ending_before", "created", "expand", ...allowed]);
  for (const key of query.keys()) {
    if (!known.has(baseName(key))) {
      throw new StripeHttpError(400, {
        type: "invalid_request_error",
        code: "parameter_unknown",
        message: `Received unknown parameter: ${key}`,
        param: key,
      });
    }
  }
}

function integerParam(query: Query, name: string): number | undefined {
  const raw = query.get(name)?.[0];
  if (raw === undefined) return undefined;
  if (!/^-?\d+$/.test(raw.trim())) throw invalidInteger(name, raw);
  return Number(raw);
}

function parseLimit(query: Query): number {
  const raw = query.get("limit")?.[0];
  const limit = integerParam(query, "limit");
  if (limit === undefined || raw === undefined) return 10;
  if (limit < 1) throw integerTooSmall("limit", 1);
  if (limit > 100) throw integerTooLarge("limit", 100, raw);
  return limit;
}

/** `created=<ts>` or any of `created[gt|gte|lt|lte]=<ts>`. */
function createdFilter(query: Query): (created: number) => boolean {
  const exact = integerParam(query, "created");
  const gt = integerParam(query, "created[gt]");
  const gte = integerParam(query, "created[gte]");
  const lt = integerParam(query, "created[lt]");
  const lte = integerParam(query, "created[lte]");
  return (created) =>
    (exact === undefined || created === exact) &&
    (gt === undefined || created > gt) &&
    (gte === undefined || created >= gte) &&
    (lt === undefined || created < lt) &&
    (lte === undefined || created <= lte);
}

/** True when `a` comes before `b` in a list: newer, or same second and inserted later. */
function newer(a: Row, b: Row): boolean {
  return a.created > b.created || (a.created === b.created && a.seq > b.seq);
}

export interface ListRequest {
  /** Every row the cursor may name (deleted rows excluded: a deleted object is no cursor). */
  rows: Iterable<Row>;
  /** Whether a row belongs in this list, beyond the `created` filter. */
  matches: (row: Row) => boolean;
  query: Query;
  url: string;
  /** For the resource_missing message: `customer`, `event`. */
  objectName: string;
}

export function listPage(request: ListRequest): JsonObject {
  const { query } = request;
  const limit = parseLimit(query);
  const startingAfter = query.get("starting_after")?.[0];
  const endingBefore = query.get("ending_before")?.[0];
  if (startingAfter !== undefined && endingBefore !== undefined) {
    throw exclusiveParameters(["starting_after", "ending_before"]);
  }
  const all = [...request.rows];
  const byId = new Map(all.map((row) => [row.object.id as string, row]));
  const cursorRow = (param: string, id: string): Row => {
    const row = byId.get(id);
    if (!row) throw resourceMissing(request.objectName, id, param, 400);
    return row;
  };
  const inCreated = createdFilter(query);
  const sorted = all
    .filter((row) => inCreated(row.created) && request.matches(row))
    .sort((a, b) => (newer(a, b) ? -1 : newer(b, a) ? 1 : 0));

  let data: Row[];
  let hasMore: boolean;
  if (startingAfter !== undefined) {
    const cursor = cursorRow("starting_after", startingAfter);
    const older = sorted.filter((row) => newer(cursor, row));
    data = older.slice(0, limit);
    hasMore = older.length > limit;
  } else if (endingBefore !== undefined) {
    // The page just newer than the cursor, still newest first; the SDK walks it backwards.
    const cursor = cursorRow("ending_before", endingBefore);
    const later = sorted.filter((row) => newer(row, cursor));
    data = later.slice(Math.max(0, later.length - limit));
    hasMore = later.length > limit;
  } else {
    data = sorted.slice(0, limit);
    hasMore = sorted.length > limit;
  }
  return {
    object: "list",
    data: data.map((row) => structuredClone(row.object)),
    has_more: hasMore,
    url: request.url,
  };
}
