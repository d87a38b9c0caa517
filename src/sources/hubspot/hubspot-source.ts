/**
 * HubSpot's source (CRM v3).
 *
 * - **Backfill**: each object's list endpoint, 100 a page, HubSpot's opaque `after`, with `properties` set to
 *   every property of the object (read from the properties API: only a few defaults come otherwise; in
 *   chunks when they would not fit in one URL); owners from `/crm/v3/owners`.
 * - **Changes**: passes of the search endpoint over the last-modified property (`lastmodifieddate` for
 *   contacts) in a window pinned to `[previous pass's end - lookback, HubSpot's now]`, read by
 *   `hs_object_id` greater than the last id read: a search stops at 10,000 results, and thousands of records
 *   can share one timestamp (a bulk update), so neither an offset nor the timestamp alone would finish. The
 *   lookback catches records the eventually consistent index shows late. Owners have no search: each pass
 *   lists them all (they are few; an unchanged one writes nothing).
 * - **Deletes**: search never shows archived records and archiving does not touch the last-modified
 *   property, so each pass also reads the archived list (`archived=true`) and deletes what it holds; a
 *   record merged into another disappears: the survivor names it in `hs_merged_object_ids`.
 * - **Horizon**: archived records are purged after 90 days. A window that starts before that is expired:
 *   the engine reads everything again and deletes what no longer exists.
 * - **Limits**: searches also keep to HubSpot's per-second search limit, shared by every sync of the
 *   credential (`searchPerSecond`), inside the credential's allotment.
 */
import { Allotment } from "../allotment.js";
import { type ProviderAnswer, ProviderError, type ProviderHttp } from "../provider-http.js";
import type { BackfillPage, ChangesPage, PulledRecord, Source } from "../source.js";
import { checkPage, checkPropertyNames, type HubSpotObject, type HubSpotPage } from "./hubspot-answers.js";
import { asCursor, type HubSpotCursor, type Pass } from "./hubspot-cursor.js";
import { hubspotObjects, OWNERS } from "./hubspot-kind.js";

const listPageSize = 100;
/** The longest `properties` a list URL carries (encoded); more properties are read in several requests. */
const maxPropertiesParamLength = 12_000;
const searchPageSize = 200;
/** HubSpot allows 5 search requests a second per token; one is left for the portal's other apps. */
export const searchPerSecond = 4;
const purgeHorizonMs = 90 * 86_400_000;
/** A window is treated as expired this much before HubSpot purges, so no pass runs from under a purge. */
const horizonMarginMs = 86_400_000;
/** Property names are read again after this long (a property added in HubSpot is then pulled too). */
const propertiesTtlMs = 15 * 60_000;

/** How far back the first pass of a collection added to a running sync reaches, at most. */
const newCollectionReachMs = 86_400_000;
/** How many of HubSpot's last `Date`s its clock is read from. */
const clockReadings = 8;
/** One search pacer per credential in this process: syncs sharing a token share HubSpot's search limit. */
const searchAllotments = new Map<string, Allotment>();

export interface HubSpotSourceOptions {
  /** The credential's fingerprint (its search pacer is shared by the syncs that use it). */
  fingerprint: string;
  lookbackMs: number;
  now?: () => number;
}

export class HubSpotSource implements Source {
  readonly provider = "hubspot";
  private readonly now: () => number;
  private readonly search: Allotment;
  /** HubSpot's clock less ours, as each of its last answers' `Date` showed it (newest last). */
  private readonly skews: number[] = [];
  private readonly properties = new Map<string, { names: string[]; at: number }>();

  constructor(
    private readonly http: ProviderHttp,
    private readonly options: HubSpotSourceOptions,
  ) {
    this.now = options.now ?? Date.now;
    let search = searchAllotments.get(options.fingerprint);
    if (!search) {
      search = new Allotment(searchPerSecond);
      searchAllotments.set(options.fingerprint, search);
    }
    this.search = search;
  }

  /**
   * The account's details: a token HubSpot does not know is refused (401). A 403 proves the token is good
   * but lacks the scope this call may need (`oauth`, which a service key or private app may not have): a
   * collection's missing scope shows when the collection is read, naming the scope.
   */
  async verify(signal?: AbortSignal): Promise<void> {
    await this.accountDetails(signal);
  }

  async changeMark(signal?: AbortSignal): Promise<HubSpotCursor> {
    await this.accountDetails(signal);
    return { mark: this.hubspotNow(), pending: [], passes: {} };
  }

  async backfillPage(collection: string, token: string | null, signal?: AbortSignal): Promise<BackfillPage> {
    if (collection === OWNERS) {
      const page = await this.listOwners(false, token, signal);
      return { records: page.results.map((o) => liveRecord(OWNERS, o)), next: page.next };
    }
    objectSpec(collection);
    const chunks = propertyChunks(await this.propertyNames(collection, signal));
    const pages: HubSpotPage[] = [];
    for (const chunk of chunks)
      pages.push(await this.listObjects(collection, { properties: chunk.join(",") }, token, signal));
    return { records: mergeChunks(pages).map((o) => liveRecord(collection, o)), next: pages[0]!.next };
  }

  async changesSince(
    cursor: unknown,
    collections: readonly string[],
    signal?: AbortSignal,
  ): Promise<ChangesPage> {
    const from = asCursor(cursor);
    // windows and the horizon are in HubSpot's time: a runner that just started has not read it yet
    if (this.skews.length === 0) await this.accountDetails(signal);
    let pending = from.pending.filter((c) => collections.includes(c));
    if (pending.length === 0) pending = [...collections];
    const collection = pending[0]!;
    // a copy: the engine keeps the cursor it passed, and this call may fail before it returns a new one
    const pass: Pass = {
      ...(from.passes[collection] ?? {
        // a collection added to the sync later starts near now (its backfill starts with this pass), not
        // at the sync's old mark, which would search months of changes or even count as expired
        from: Math.max(from.mark, this.hubspotNow() - newCollectionReachMs) - this.options.lookbackMs,
        to: null,
        afterId: null,
        phase: collection === OWNERS ? "live" : "search",
        after: null,
      }),
    };
    if (collection !== OWNERS && pass.to === null) {
      if (pass.from < this.hubspotNow() - purgeHorizonMs + horizonMarginMs)
        return {
          expired: `the last change seen in ${collection} is older than HubSpot's 90 days of archived records`,
        };
      pass.to = this.hubspotNow();
    }
    const step = await this.step(collection, pass, signal);
    const done = step.next === null;
    const next: Pass = done
      ? {
          from: collection === OWNERS ? pass.from : pass.to! - this.options.lookbackMs,
          to: null,
          afterId: null,
          phase: collection === OWNERS ? "live" : "search",
          after: null,
        }
      : step.next!;
    const left = done ? pending.slice(1) : pending;
    return {
      records: step.records,
      cursor: { mark: from.mark, pending: left, passes: { ...from.passes, [collection]: next } },
      more: left.length > 0,
    };
  }

  /** One page of a pass; `next` is the pass after it, or null when the pass is over. */
  private async step(
    collection: string,
    pass: Pass,
    signal?: AbortSignal,
  ): Promise<{ records: PulledRecord[]; next: Pass | null }> {
    switch (pass.phase) {
      case "search": {
        const page = await this.searchWindow(collection, pass, signal);
        const records: PulledRecord[] = [];
        for (const object of page.results) {
          for (const merged of mergedIds(object)) records.push(deletedRecord(collection, merged));
          records.push(liveRecord(collection, object));
        }
        const next: Pass =
          page.next !== null && page.results.length > 0
            ? { ...pass, afterId: page.results.at(-1)!.id }
            : { ...pass, phase: "archived", after: null };
        return { records, next };
      }
      case "live": {
        const page = await this.listOwners(false, pass.after, signal);
        const records = page.results.map((o) => liveRecord(OWNERS, o));
        const next: Pass =
          page.next !== null ? { ...pass, after: page.next } : { ...pass, phase: "archived", after: null };
        return { records, next };
      }
      case "archived": {
        const page =
          collection === OWNERS
            ? await this.listOwners(true, pass.after, signal)
            : await this.listObjects(collection, { archived: "true" }, pass.after, signal);
        const records = page.results.map((o) => deletedRecord(collection, o.id));
        return { records, next: page.next !== null ? { ...pass, after: page.next } : null };
      }
    }
  }

  private async searchWindow(collection: string, pass: Pass, signal?: AbortSignal): Promise<HubSpotPage> {
    const modified = objectSpec(collection).modifiedProperty;
    const properties = await this.propertyNames(collection, signal);
    const path = `/crm/v3/objects/${collection}/search`;
    const turn = await this.search.take(signal);
    let answer: ProviderAnswer;
    try {
      answer = await this.http.post(path, {
        json: {
          filterGroups: [
            {
              filters: [
                { propertyName: modified, operator: "GTE", value: String(pass.from) },
                { propertyName: modified, operator: "LTE", value: String(pass.to) },
                ...(pass.afterId !== null
                  ? [{ propertyName: "hs_object_id", operator: "GT", value: pass.afterId }]
                  : []),
              ],
            },
          ],
          sorts: [{ propertyName: "hs_object_id", direction: "ASCENDING" }],
          properties,
          limit: searchPageSize,
        },
        ...(signal ? { signal } : {}),
      });
    } finally {
      turn.done();
    }
    this.learnClock(answer);
    return checkPage(answer.body, `POST ${path}`, true);
  }

  private async listObjects(
    collection: string,
    query: Record<string, string>,
    after: string | null,
    signal?: AbortSignal,
  ): Promise<HubSpotPage> {
    const path = `/crm/v3/objects/${collection}`;
    const body = await this.get(
      path,
      { limit: String(listPageSize), archived: "false", ...query, ...(after ? { after } : {}) },
      signal,
    );
    return checkPage(body, `GET ${path}`, true);
  }

  private async listOwners(
    archived: boolean,
    after: string | null,
    signal?: AbortSignal,
  ): Promise<HubSpotPage> {
    const path = "/crm/v3/owners";
    const body = await this.get(
      path,
      { limit: String(listPageSize), archived: String(archived), ...(after ? { after } : {}) },
      signal,
    );
    return checkPage(body, `GET ${path}`, false);
  }

  /** Every property name of an object type, read again after a while. */
  private async propertyNames(collection: string, signal?: AbortSignal): Promise<string[]> {
    const known = this.properties.get(collection);
    if (known && this.now() - known.at < propertiesTtlMs) return known.names;
    const path = `/crm/v3/properties/${collection}`;
    const names = checkPropertyNames(await this.get(path, {}, signal), `GET ${path}`).sort();
    this.properties.set(collection, { names, at: this.now() });
    return names;
  }

  private async accountDetails(signal?: AbortSignal): Promise<void> {
    const answer = await this.http.get("/account-info/v3/details", {
      accept: [403],
      ...(signal ? { signal } : {}),
    });
    this.learnClock(answer);
  }

  private async get(path: string, query: Record<string, string>, signal?: AbortSignal): Promise<unknown> {
    const answer = await this.http.get(path, { query, ...(signal ? { signal } : {}) });
    this.learnClock(answer);
    return answer.body;
  }

  /**
   * HubSpot's clock from its answers' `Date`. It has whole seconds, rounded down: one answer puts HubSpot up
   * to a second behind, and a window ending there would leave the last second's changes to the next pass.
   * The largest of the last few readings is closer and still never ahead (each is a lower bound).
   */
  private learnClock(answer: ProviderAnswer): void {
    const date = Date.parse(answer.headers.get("date") ?? "");
    if (Number.isNaN(date)) return;
    this.skews.push(date - this.now());
    if (this.skews.length > clockReadings) this.skews.shift();
  }

  private hubspotNow(): number {
    return this.now() + (this.skews.length > 0 ? Math.max(...this.skews) : 0);
  }
}

/**
 * The property names split so no list URL grows too long: an account's objects often have hundreds of
 * properties, and HubSpot refuses a URL that names them all (414). Each chunk reads the same page.
 */
function propertyChunks(names: string[]): string[][] {
  const chunks: string[][] = [[]];
  let length = 0;
  for (const name of names) {
    const cost = encodeURIComponent(name).length + 3; // and its comma, encoded
    if (length + cost > maxPropertiesParamLength && chunks.at(-1)!.length > 0) {
      chunks.push([]);
      length = 0;
    }
    chunks.at(-1)!.push(name);
    length += cost;
  }
  return chunks;
}

/**
 * One page read in property chunks, as one: each object with the properties of every chunk. An object
 * missing from a chunk was archived or created between the reads: it is left to the changes (the archived
 * list, or the search after the change mark) rather than written with half its properties.
 */
function mergeChunks(pages: HubSpotPage[]): HubSpotObject[] {
  const [first, ...rest] = pages;
  if (rest.length === 0) return first!.results;
  const others = rest.map((page) => new Map(page.results.map((o) => [o.id, o])));
  const merged: HubSpotObject[] = [];
  for (const object of first!.results) {
    const parts = others.map((byId) => byId.get(object.id));
    if (parts.some((p) => p === undefined)) continue;
    const properties = Object.assign({}, object.properties, ...parts.map((p) => p!.properties));
    merged.push({ ...object, properties });
  }
  return merged;
}

function objectSpec(collection: string): { modifiedProperty: string } {
  const spec = hubspotObjects[collection];
  if (!spec) throw new ProviderError("refused", `hubspot has no collection ${JSON.stringify(collection)}`);
  return spec;
}

/** The ids a record absorbed by merges (`hs_merged_object_ids`: "12;34"). */
function mergedIds(object: HubSpotObject): string[] {
  const value = object.properties?.hs_merged_object_ids;
  if (typeof value !== "string" || value === "") return [];
  return value
    .split(";")
    .map((id) => id.trim())
    .filter((id) => id !== "" && id !== object.id);
}

function liveRecord(collection: string, object: HubSpotObject): PulledRecord {
  return { collection_id: collection, upstream_id: object.id, payload: object, deleted: false };
}

function deletedRecord(collection: string, id: string): PulledRecord {
  return { collection_id: collection, upstream_id: id, payload: null, deleted: true };
}
