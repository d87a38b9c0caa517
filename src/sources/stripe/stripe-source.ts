/**
 * Stripe's source.
 *
 * - **Backfill**: each collection's list endpoint, 100 a page, `starting_after` the last id (with the filters
 *   a list needs to show everything, e.g. subscriptions' `status=all`; `Stripe-Account` for Connect).
 * - **Changes**: `/v1/events` after the last event applied, by event id (`ending_before`), never by
 *   `created` (one-second resolution: many events share a second). Each page is taken oldest first. The
 *   objects its events name are re-read once per page (an event's copy may be stale, and is rendered in the
 *   event's API version), so a record's payload is the object as the API returns it now.
 * - **Deletes**: `<object>.deleted` events; a re-read answering 404 or `deleted: true`. (A subscription's
 *   `customer.subscription.deleted` means canceled: it is re-read, and stays, canceled.)
 * - **Horizon**: Stripe keeps events for 30 days. A cursor older than that (or one Stripe no longer knows)
 *   is expired: the engine reads everything again and deletes what no longer exists.
 */
import { ProviderError, type ProviderHttp } from "../provider-http.js";
import type { BackfillPage, ChangesPage, PulledRecord, Source } from "../source.js";
import { stripeCollections } from "./stripe-kind.js";

/** Where the changes stand: the last event applied (null: none existed), and its time (unix seconds). */
export interface StripeCursor {
  event: string | null;
  created: number;
}

const pageSize = 100;
/** Re-reads of one events page in flight at once. */
const rereadsInFlight = 8;
const horizonSeconds = 30 * 24 * 3600;
/** Treated as expired a little before Stripe purges, so a page is not read from under the purge. */
const horizonMarginSeconds = 3600;

interface StripeObject {
  id: string;
  object: string;
  deleted?: boolean;
  [key: string]: unknown;
}

interface StripeEvent {
  id: string;
  type: string;
  created: number;
  data: { object: StripeObject };
}

export class StripeSource implements Source {
  readonly provider = "stripe";

  constructor(
    private readonly http: ProviderHttp,
    private readonly now: () => number = Date.now,
  ) {}

  async verify(signal?: AbortSignal): Promise<void> {
    await this.list("events", { limit: 1 }, signal);
  }

  async changeMark(signal?: AbortSignal): Promise<StripeCursor> {
    const newest = (await this.list("events", { limit: 1 }, signal)).data[0] as StripeEvent | undefined;
    if (newest) return { event: newest.id, created: checkEvent(newest, "events").created };
    // no event yet: from a minute ago by our clock (Stripe's may differ a little; reading twice is harmless)
    return { event: null, created: Math.floor(this.now() / 1000) - 60 };
  }

  async backfillPage(collection: string, token: string | null, signal?: AbortSignal): Promise<BackfillPage> {
    const spec = stripeCollections[collection];
    if (!spec) throw new ProviderError("refused", `stripe has no collection ${JSON.stringify(collection)}`);
    const page = await this.list(
      spec.path,
      { limit: pageSize, ...spec.listQuery, ...(token ? { starting_after: token } : {}) },
      signal,
    );
    const records = page.data.map((object) => liveRecord(collection, object));
    return { records, next: page.has_more && records.length > 0 ? page.data.at(-1)!.id : null };
  }

  async changesSince(
    cursor: unknown,
    collections: readonly string[],
    signal?: AbortSignal,
  ): Promise<ChangesPage> {
    const from = asCursor(cursor);
    const horizon = Math.floor(this.now() / 1000) - horizonSeconds + horizonMarginSeconds;
    if (from.created < horizon)
      return { expired: `the last change applied is older than Stripe's 30-day event retention` };
    let events: StripeEvent[];
    let more = false;
    try {
      if (from.event) {
        const page = await this.list("events", { limit: pageSize, ending_before: from.event }, signal);
        events = page.data.map((e) => checkEvent(e as unknown as StripeEvent, "events")).reverse();
        more = page.has_more;
      } else events = await this.eventsCreatedSince(from.created, signal);
    } catch (error) {
      if (error instanceof ProviderError && error.details.code === "resource_missing")
        return { expired: `Stripe no longer knows the last event applied (${from.event})` };
      throw error;
    }
    const newest = events.at(-1);
    const next: StripeCursor = newest ? { event: newest.id, created: newest.created } : from;
    return { records: await this.objectsOf(events, collections, signal), cursor: next, more };
  }

  /** Every event since `created` (only when no event existed at the mark), oldest first. */
  private async eventsCreatedSince(created: number, signal?: AbortSignal): Promise<StripeEvent[]> {
    const events: StripeEvent[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await this.list(
        "events",
        { limit: pageSize, "created[gte]": created, ...(after ? { starting_after: after } : {}) },
        signal,
      );
      events.push(...page.data.map((e) => checkEvent(e as unknown as StripeEvent, "events")));
      if (!page.has_more || page.data.length === 0) return events.reverse();
      after = page.data.at(-1)!.id;
    }
  }

  /**
   * The records a page of events changed, each once: deleted when its last event deletes it, else re-read
   * (404 or `deleted: true` on the re-read: deleted too).
   */
  private async objectsOf(
    events: StripeEvent[],
    collections: readonly string[],
    signal?: AbortSignal,
  ): Promise<PulledRecord[]> {
    const last = new Map<string, StripeEvent>();
    for (const event of events) {
      const object = event.data.object;
      if (!collections.includes(object.object) || !stripeCollections[object.object]) continue;
      const key = `${object.object}\u0000${object.id}`;
      last.delete(key); // re-inserted: the map keeps the order of each object's last event
      last.set(key, event);
    }
    // re-read side by side (the allotment paces them), the records kept in the order of their last event
    const lastEvents = [...last.values()];
    const records: PulledRecord[] = new Array(lastEvents.length);
    let next = 0;
    const reader = async () => {
      for (let i = next++; i < lastEvents.length; i = next++)
        records[i] = await this.current(lastEvents[i]!, signal);
    };
    await Promise.all(Array.from({ length: Math.min(rereadsInFlight, lastEvents.length) }, reader));
    return records;
  }

  /** The record an event's object stands for now: deleted by its last event, or as a re-read finds it. */
  private async current(event: StripeEvent, signal?: AbortSignal): Promise<PulledRecord> {
    const { object: collection, id } = event.data.object;
    if (event.type === `${collection}.deleted`) return deletedRecord(collection, id);
    const answer = await this.http.get(
      `/v1/${stripeCollections[collection]!.path}/${encodeURIComponent(id)}`,
      {
        accept: [404],
        ...(signal ? { signal } : {}),
      },
    );
    const object = answer.status === 404 ? undefined : checkObject(answer.body, `${collection} ${id}`);
    return !object || object.deleted === true
      ? deletedRecord(collection, id)
      : liveRecord(collection, object);
  }

  private async list(
    path: string,
    query: Record<string, string | number>,
    signal?: AbortSignal,
  ): Promise<{ data: StripeObject[]; has_more: boolean }> {
    const answer = await this.http.get(`/v1/${path}`, { query, ...(signal ? { signal } : {}) });
    const body = answer.body as { object?: unknown; data?: unknown; has_more?: unknown };
    if (body?.object !== "list" || !Array.isArray(body.data) || typeof body.has_more !== "boolean")
      throw new ProviderError(
        "invalid_answer",
        `stripe answered /v1/${path} with something that is not a list`,
      );
    return {
      data: body.data.map((item, i) => checkObject(item, `/v1/${path} data[${i}]`)),
      has_more: body.has_more,
    };
  }
}

function checkObject(value: unknown, where: string): StripeObject {
  const o = value as StripeObject;
  if (
    typeof o !== "object" ||
    o === null ||
    typeof o.id !== "string" ||
    o.id.length === 0 ||
    typeof o.object !== "string"
  )
    throw new ProviderError(
      "invalid_answer",
      `stripe answered ${where} with an object without an id or object name`,
    );
  return o;
}

function checkEvent(event: StripeEvent, where: string): StripeEvent {
  if (
    typeof event.created !== "number" ||
    typeof event.type !== "string" ||
    typeof event.data?.object !== "object"
  )
    throw new ProviderError(
      "invalid_answer",
      `stripe answered ${where} with an event (${event.id}) without type, created or data.object`,
    );
  checkObject(event.data.object, `${where} ${event.id}`);
  return event;
}

function asCursor(cursor: unknown): StripeCursor {
  const c = cursor as StripeCursor;
  if (
    typeof c !== "object" ||
    c === null ||
    typeof c.created !== "number" ||
    (c.event !== null && typeof c.event !== "string")
  )
    throw new ProviderError(
      "invalid_answer",
      "the stored Stripe change cursor is not one this version wrote",
    );
  return c;
}

function liveRecord(collection: string, object: StripeObject): PulledRecord {
  return { collection_id: collection, upstream_id: object.id, payload: object, deleted: false };
}

function deletedRecord(collection: string, id: string): PulledRecord {
  return { collection_id: collection, upstream_id: id, payload: null, deleted: true };
}
