/**
 * `POST /crm/v3/objects/{type}/search` as HubSpot documents it: up to 5 filterGroups (ORed) of up to 6
 * filters each (ANDed), 18 filters in all; operators EQ, NEQ, LT, LTE, GT, GTE, BETWEEN, IN, NOT_IN,
 * HAS_PROPERTY, NOT_HAS_PROPERTY; one sort; `limit` up to 200; `after` an offset, and no page past the
 * 10,000th result (a 400). Timestamps compare as epoch ms (filters may give ms or ISO-8601), numbers as
 * numbers. It reads the search index, which may lag behind the data.
 */
import { validationError } from "./errors.js";
import type { StoredObject } from "./portal-data.js";
import { comparable } from "./properties.js";

export const SEARCH_RESULTS_CAP = 10_000;
const maxLimit = 200;

interface Filter {
  propertyName: string;
  operator: string;
  value?: unknown;
  highValue?: unknown;
  values?: unknown[];
}

export interface SearchRequest {
  filterGroups: { filters: Filter[] }[];
  sort: { propertyName: string; descending: boolean } | undefined;
  properties: string[] | undefined;
  limit: number;
  offset: number;
}

export function parseSearch(body: unknown): SearchRequest {
  if (typeof body !== "object" || body === null)
    throw validationError("Invalid input JSON on line 1, column 1");
  const b = body as Record<string, unknown>;
  const groups = (b.filterGroups ?? []) as { filters?: Filter[] }[];
  if (!Array.isArray(groups)) throw validationError("filterGroups must be a list");
  if (groups.length > 5) throw validationError("Too many filter groups: 5 are allowed");
  let filters = 0;
  for (const group of groups) {
    if (!Array.isArray(group?.filters)) throw validationError("each filterGroup needs a filters list");
    if (group.filters.length > 6) throw validationError("Too many filters in a group: 6 are allowed");
    filters += group.filters.length;
  }
  if (filters > 18) throw validationError("Too many filters: 18 are allowed in all");
  const sorts = (b.sorts ?? []) as unknown[];
  if (!Array.isArray(sorts) || sorts.length > 1) throw validationError("Only one sort is allowed");
  const sort = sorts[0];
  const limit = b.limit === undefined ? 10 : Number(b.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > maxLimit)
    throw validationError(`limit must be between 1 and ${maxLimit}`);
  const offset = b.after === undefined || b.after === null || b.after === "" ? 0 : Number(b.after);
  if (!Number.isInteger(offset) || offset < 0)
    throw validationError(`after must be an offset: ${String(b.after)}`);
  if (offset + limit > SEARCH_RESULTS_CAP)
    throw validationError(
      `The search API cannot page past ${SEARCH_RESULTS_CAP} results: after + limit = ${offset + limit}. Narrow the query.`,
    );
  return {
    filterGroups: groups as { filters: Filter[] }[],
    sort:
      typeof sort === "string"
        ? { propertyName: sort, descending: false }
        : sort && typeof sort === "object"
          ? {
              propertyName: String((sort as Filter).propertyName),
              descending: (sort as { direction?: string }).direction === "DESCENDING",
            }
          : undefined,
    properties: Array.isArray(b.properties) ? b.properties.map(String) : undefined,
    limit,
    offset,
  };
}

/** The matching objects in order, and the page of them the request asked for. */
export function runSearch(objects: StoredObject[], request: SearchRequest) {
  const matching = objects.filter(
    (o) =>
      request.filterGroups.length === 0 ||
      request.filterGroups.some((g) => g.filters.every((f) => matches(o, f))),
  );
  const sort = request.sort;
  if (sort) {
    const key = (o: StoredObject) => comparable(sort.propertyName, o.properties[sort.propertyName]);
    matching.sort((a, b) => {
      const [x, y] = [key(a), key(b)];
      const byValue =
        x !== undefined && y !== undefined
          ? x - y
          : String(a.properties[sort.propertyName] ?? "").localeCompare(
              String(b.properties[sort.propertyName] ?? ""),
            );
      return (sort.descending ? -byValue : byValue) || Number(a.id) - Number(b.id);
    });
  }
  const page = matching.slice(request.offset, request.offset + request.limit);
  const end = request.offset + page.length;
  return { total: matching.length, page, next: end < matching.length ? String(end) : undefined };
}

function matches(object: StoredObject, filter: Filter): boolean {
  const name = filter.propertyName;
  const raw = object.properties[name];
  const has = raw !== null && raw !== undefined && raw !== "";
  const value = comparable(name, raw);
  const wanted = comparable(name, filter.value);
  const same = (v: unknown) => {
    const c = comparable(name, v);
    return c !== undefined && value !== undefined
      ? c === value
      : String(v).toLowerCase() === String(raw ?? "").toLowerCase();
  };
  switch (filter.operator) {
    case "HAS_PROPERTY":
      return has;
    case "NOT_HAS_PROPERTY":
      return !has;
    case "EQ":
      return has && same(filter.value);
    case "NEQ":
      return !has || !same(filter.value);
    case "IN":
      return has && (filter.values ?? []).some(same);
    case "NOT_IN":
      return !has || !(filter.values ?? []).some(same);
    case "GT":
      return value !== undefined && wanted !== undefined && value > wanted;
    case "GTE":
      return value !== undefined && wanted !== undefined && value >= wanted;
    case "LT":
      return value !== undefined && wanted !== undefined && value < wanted;
    case "LTE":
      return value !== undefined && wanted !== undefined && value <= wanted;
    case "BETWEEN": {
      const high = comparable(name, filter.highValue);
      return (
        value !== undefined && wanted !== undefined && high !== undefined && value >= wanted && value <= high
      );
    }
    default:
      throw validationError(`Unknown operator ${JSON.stringify(filter.operator)} for property ${name}`);
  }
}
