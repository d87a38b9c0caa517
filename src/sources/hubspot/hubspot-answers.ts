/**
 * HubSpot's answers checked at the door: a CRM object, a page of a list or a search, the properties of an
 * object type, an owner. A body that is not the documented shape is an `invalid_answer` naming the
 * endpoint, never a crash or a silent skip.
 */
import { ProviderError } from "../provider-http.js";

export interface HubSpotObject {
  id: string;
  properties?: Record<string, unknown>;
  archived?: boolean;
  archivedAt?: string;
  [key: string]: unknown;
}

export interface HubSpotPage {
  results: HubSpotObject[];
  /** The `after` of the next page, when there is one. */
  next: string | null;
}

function invalid(where: string, what: string): ProviderError {
  return new ProviderError("invalid_answer", `hubspot answered ${where} with ${what}`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** `{results: [...], paging?: {next?: {after}}}`, each result with a non-empty string id. */
export function checkPage(body: unknown, where: string, withProperties: boolean): HubSpotPage {
  if (!isRecord(body) || !Array.isArray(body.results)) throw invalid(where, "a body without a results list");
  const results = body.results.map((item, i) => {
    if (!isRecord(item) || typeof item.id !== "string" || item.id === "")
      throw invalid(where, `results[${i}] without an id`);
    if (withProperties && !isRecord(item.properties))
      throw invalid(where, `results[${i}] (${item.id}) without properties`);
    return item as HubSpotObject;
  });
  let next: string | null = null;
  if (body.paging !== undefined && body.paging !== null) {
    const paging = body.paging as { next?: { after?: unknown } };
    if (!isRecord(paging)) throw invalid(where, "a paging that is not an object");
    if (paging.next !== undefined) {
      const after = isRecord(paging.next) ? paging.next.after : undefined;
      if (typeof after !== "string" || after === "") throw invalid(where, "a paging.next without an after");
      next = after;
    }
  }
  return { results, next };
}

/** The names of an object type's properties (`GET /crm/v3/properties/{type}`). */
export function checkPropertyNames(body: unknown, where: string): string[] {
  if (!isRecord(body) || !Array.isArray(body.results)) throw invalid(where, "a body without a results list");
  return body.results.map((item, i) => {
    if (!isRecord(item) || typeof item.name !== "string" || item.name === "")
      throw invalid(where, `results[${i}] without a property name`);
    return item.name;
  });
}
