/**
 * Salesforce's source, by SOQL over the REST API.
 *
 * - **Backfill**: `SELECT <describe's fields> FROM <T> WHERE Id > :after ORDER BY Id`, in the batches
 *   Salesforce gives (`nextRecordsUrl`, up to 2,000 records). The page token keeps the locator and the last
 *   Id read: a locator that died (`INVALID_QUERY_LOCATOR`: two days old, or the org's cursors were reset) is
 *   replaced by the same query from that Id. No date slicing: a record untouched for years is read too.
 * - **Changes**: one collection per call, in turns: `queryAll` (so records deleted into the recycle bin come
 *   with `IsDeleted = true`) ordered by the `(SystemModstamp, Id)` keyset, 2,000 at a time. SystemModstamp
 *   has one-second precision, so a second may hold more records than a page: the Id breaks the tie and the
 *   next page starts right after the last record read, never at the same second again. A record can commit
 *   late, with a stamp older than records already read: each pass, once caught up, starts the next one a
 *   look-back window (`lookback_seconds`, 300 by default) before the org's time at this pass's start, so a
 *   record that commits within the window is read; reading a record again unchanged adds no version.
 * - **Deletes**: `IsDeleted` rows of `queryAll`; and, for records purged from the recycle bin or hard-deleted,
 *   the delete log `/sobjects/{T}/deleted` every `deleted_check_seconds`. The log keeps 15 days (less when
 *   Salesforce trims it): a cursor whose last check is older than the log's earliest date is expired, and the
 *   engine reads everything again and deletes what was not read again (a sweep of ids; one that fails half-way
 *   deletes nothing).
 * - **Quota**: every answer's `Sforce-Limit-Info` is noted; past the sync's share of the org's daily requests,
 *   or on `REQUEST_LIMIT_EXCEEDED`, the sync fails with that reason and retries with backoff until it frees.
 */
import { ProviderError, type ProviderHttp } from "../provider-http.js";
import type { BackfillPage, ChangesPage, PulledRecord, Source } from "../source.js";
import {
  type DescribedObject,
  parseDatetime,
  type QueryBatch,
  SalesforceApi,
  type SalesforceRecord,
  soqlDatetime,
} from "./salesforce-api.js";
import { apiPath, type SalesforceSettings } from "./salesforce-kind.js";

/** Where one collection's changes stand (times are the org's, epoch ms). */
interface CollectionChanges {
  /** Changes are read after this keyset; `id` empty: from this stamp on, inclusive. */
  stamp: number;
  id: string;
  /** The org's time when the current pass began; null between passes. */
  passStart: number | null;
  /** The delete log has been read up to here. */
  deletedUntil: number;
}

export interface SalesforceCursor {
  v: 1;
  /** The org's time of the change mark, less the look-back: where collections polled first start. */
  mark: number;
  changes: Record<string, CollectionChanges>;
  /** The collection whose turn it is (an index into the sync's collections). */
  turn: number;
}

interface BackfillToken {
  after: string | null;
  locator: string | null;
}

const notTheLoginAddress =
  "base_url must be your org's instance URL (https://yourorg.my.salesforce.com), not the login address: set base_url, or the credential's instance_url";

const changesPageSize = 2000;
const deleteLogMs = 15 * 86_400_000;
/** Treated as expired a little before the delete log forgets, so a window is not read from under it. */
const deleteLogMarginMs = 3_600_000;

export class SalesforceSource implements Source {
  readonly provider = "salesforce";
  private readonly api: SalesforceApi;
  private readonly described = new Map<string, Promise<DescribedObject>>();

  constructor(
    http: ProviderHttp,
    private readonly baseUrl: string,
    private readonly settings: SalesforceSettings,
    now: () => number = Date.now,
  ) {
    this.api = new SalesforceApi(http, settings.dailyQuotaPercent, now);
  }

  private get lookbackMs(): number {
    return this.settings.lookbackSeconds * 1000;
  }

  async verify(signal?: AbortSignal): Promise<void> {
    if (/^(login|test)\.salesforce\.com$/i.test(new URL(this.baseUrl).hostname))
      throw new ProviderError("refused", `salesforce: ${notTheLoginAddress}`, { reason: notTheLoginAddress });
    await this.api.get(`${apiPath}/`, undefined, signal);
  }

  async changeMark(signal?: AbortSignal): Promise<SalesforceCursor> {
    return { v: 1, mark: (await this.orgNow(signal, true)) - this.lookbackMs, changes: {}, turn: 0 };
  }

  async backfillPage(collection: string, token: string | null, signal?: AbortSignal): Promise<BackfillPage> {
    const from = token === null ? { after: null, locator: null } : asToken(token);
    let batch: QueryBatch | undefined;
    if (from.locator)
      batch = await this.api.more(from.locator, signal).catch((error: unknown) => {
        if (error instanceof ProviderError && error.details.code === "INVALID_QUERY_LOCATOR")
          return undefined;
        throw error;
      });
    batch ??= await this.withFields(collection, signal, (fields) =>
      this.api.query(
        `SELECT ${fields.join(", ")} FROM ${collection}${from.after ? ` WHERE Id > '${from.after}'` : ""} ORDER BY Id ASC`,
        false,
        signal,
      ),
    );
    const records = batch.records.map((r) => pulled(collection, r));
    const after = batch.records.at(-1)?.Id ?? from.after;
    const next: BackfillToken | null = batch.done ? null : { after, locator: batch.nextRecordsUrl };
    return { records, next: next && JSON.stringify(next) };
  }

  async changesSince(
    cursor: unknown,
    collections: readonly string[],
    signal?: AbortSignal,
  ): Promise<ChangesPage> {
    const from = asCursor(cursor);
    if (collections.length === 0) return { records: [], cursor: from, more: false };
    const changes = { ...from.changes };
    const unseen = collections.filter((c) => !changes[c]);
    if (unseen.length > 0) {
      // at the first poll, from the mark; a collection added later, from now (its backfill starts after this)
      const start =
        Object.keys(changes).length === 0 ? from.mark : (await this.orgNow(signal)) - this.lookbackMs;
      for (const c of unseen) changes[c] = { stamp: start, id: "", passStart: null, deletedUntil: start };
    }
    const turn = from.turn % collections.length;
    const collection = collections[turn]!;
    const state = changes[collection]!;
    const { hasIsDeleted } = await this.describe(collection, signal);
    const batch = await this.withFields(collection, signal, (fields) =>
      this.api.query(changesQuery(collection, fields, state), hasIsDeleted, signal),
    );
    // the pass began when its first page was asked for (a second early: the answer's Date comes after)
    const passStart = state.passStart ?? (await this.orgNow(signal)) - 1000;
    const records = batch.records.map((r) => pulled(collection, r));
    if (!batch.done || batch.records.length >= changesPageSize) {
      const last = batch.records.at(-1)!;
      const stamp = parseDatetime(last.SystemModstamp);
      if (stamp === undefined)
        throw new ProviderError(
          "invalid_answer",
          `salesforce answered a query of ${collection} with a record (${last.Id}) without a SystemModstamp`,
        );
      changes[collection] = { ...state, stamp, id: last.Id, passStart };
      return { records, cursor: { ...from, changes }, more: true };
    }
    // caught up: the next pass starts a look-back window before this one began
    let deletedUntil = state.deletedUntil;
    let deletes: PulledRecord[] = [];
    const now = await this.orgNow(signal);
    if (now - deletedUntil >= this.settings.deletedCheckSeconds * 1000) {
      const checked = await this.deleteLog(collection, deletedUntil, now, signal);
      if ("expired" in checked) return checked;
      deletes = checked.records;
      deletedUntil = checked.until;
    }
    changes[collection] = { stamp: passStart - this.lookbackMs, id: "", passStart: null, deletedUntil };
    const next = turn + 1;
    return {
      // deletes first: a record read live afterwards (undeleted since) stays live
      records: [...deletes, ...records],
      cursor: { ...from, changes, turn: next % collections.length },
      more: next < collections.length,
    };
  }

  /** The delete log since `until` (less the look-back: deletes commit late too), or expired. */
  private async deleteLog(
    collection: string,
    until: number,
    now: number,
    signal?: AbortSignal,
  ): Promise<{ records: PulledRecord[]; until: number } | { expired: string }> {
    const start = until - this.lookbackMs;
    const expired = {
      expired: `Salesforce's delete log of ${collection} no longer reaches back to the last check (${new Date(until).toISOString()}): it keeps 15 days at most`,
    };
    if (start < now - deleteLogMs + deleteLogMarginMs) return expired;
    try {
      const log = await this.api.deleted(collection, start, now, signal);
      if (log.earliestMs > start) return expired;
      return {
        records: log.ids.map((id) => ({
          collection_id: collection,
          upstream_id: id,
          payload: null,
          deleted: true,
        })),
        until: Math.max(until, log.latestCoveredMs),
      };
    } catch (error) {
      if (
        error instanceof ProviderError &&
        ["INVALID_REPLICATION_DATE", "EXCEEDED_ID_LIMIT"].includes(error.details.code ?? "")
      )
        return { expired: `${expired.expired} (${error.reason})` };
      throw error;
    }
  }

  private describe(collection: string, signal?: AbortSignal): Promise<DescribedObject> {
    let described = this.described.get(collection);
    if (!described) {
      described = this.api.describe(collection, signal);
      described.catch(() => this.described.delete(collection));
      this.described.set(collection, described);
    }
    return described;
  }

  /** Runs a query with the collection's fields; a field gone since describe: describe again, once. */
  private async withFields<T>(
    collection: string,
    signal: AbortSignal | undefined,
    run: (fields: string[]) => Promise<T>,
  ): Promise<T> {
    try {
      return await run((await this.describe(collection, signal)).fields);
    } catch (error) {
      if (!(error instanceof ProviderError && error.details.code === "INVALID_FIELD")) throw error;
      this.described.delete(collection);
      return run((await this.describe(collection, signal)).fields);
    }
  }

  /** The org's time: from the last answer, or asked for (`ask`: always asked). */
  private async orgNow(signal?: AbortSignal, ask = false): Promise<number> {
    if (ask || this.api.serverNow() === undefined) await this.api.get(`${apiPath}/`, undefined, signal);
    return this.api.serverNow() ?? Date.now();
  }
}

function changesQuery(collection: string, fields: readonly string[], state: CollectionChanges): string {
  const stamp = soqlDatetime(state.stamp);
  const after =
    state.id === ""
      ? `SystemModstamp >= ${stamp}`
      : `SystemModstamp > ${stamp} OR (SystemModstamp = ${stamp} AND Id > '${state.id}')`;
  return `SELECT ${fields.join(", ")} FROM ${collection} WHERE ${after} ORDER BY SystemModstamp ASC, Id ASC LIMIT ${changesPageSize}`;
}

function pulled(collection: string, record: SalesforceRecord): PulledRecord {
  return record.IsDeleted === true
    ? { collection_id: collection, upstream_id: record.Id, payload: null, deleted: true }
    : { collection_id: collection, upstream_id: record.Id, payload: record, deleted: false };
}

function asToken(token: string): BackfillToken {
  let parsed: BackfillToken | undefined;
  try {
    parsed = JSON.parse(token) as BackfillToken;
  } catch {
    parsed = undefined;
  }
  if (
    typeof parsed !== "object" ||
    parsed === null ||
    // the Id goes into a query: only an Id's characters
    (parsed.after !== null &&
      (typeof parsed.after !== "string" || !/^[A-Za-z0-9]{15,18}$/.test(parsed.after))) ||
    (parsed.locator !== null && typeof parsed.locator !== "string")
  )
    throw new ProviderError(
      "invalid_answer",
      "the stored Salesforce backfill token is not one this version wrote",
    );
  return parsed;
}

function asCursor(cursor: unknown): SalesforceCursor {
  const c = cursor as SalesforceCursor;
  if (
    typeof c !== "object" ||
    c === null ||
    c.v !== 1 ||
    typeof c.mark !== "number" ||
    typeof c.turn !== "number" ||
    typeof c.changes !== "object" ||
    c.changes === null
  )
    throw new ProviderError(
      "invalid_answer",
      "the stored Salesforce change cursor is not one this version wrote",
    );
  return c;
}
