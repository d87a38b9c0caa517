/**
 * Runs one sourced sync, in the shared work loop (runtime/work-loop.ts). A round:
 *
 *   no change cursor yet → take the provider's change mark (BEFORE the first backfill page, so nothing
 *   changed during the backfill is lost) → changes since the cursor, when a poll is due → one backfill page of
 *   the next collection still backfilling (collections take turns) → wait for the poll interval unless more
 *   is waiting.
 *
 * Every page's records and the position it reached (page token or change cursor) commit in ONE store
 * transaction, fenced by the sync's lease: a crash between two pages reads the last page again (at-least-once;
 * the stream's version rule makes a repeat change nothing), and a worker that lost the lease writes nothing.
 * Records are stamped with the store's clock at commit, so the newest observation wins on every worker.
 *
 * Modes: _backfilling_ (some collection's pages remain; changes are applied meanwhile), _live_ (polling
 * changes), _re-backfill_ (the change cursor expired, e.g. Stripe's 30-day horizon, or a user asked: every
 * collection is read again, and at the end of each, records that were not read again are deleted, since they
 * no longer exist upstream), _failing_ (the provider refused, kept failing or answered nonsense: the error
 * and its start are kept, retried with a capped backoff, never in a storm). While the store fails the runner
 * waits and retries. Losing the lease stops the runner.
 */
import type pg from "pg";
import type { Logger } from "pino";
import { withTransaction } from "../db/transaction.js";
import { SequinError } from "../errors.js";
import { Backoff, type BackoffOptions, WorkLoop } from "../runtime/index.js";
import { type IncomingRecord, ingestWithin, notifyStreamChanged } from "../stream/index.js";
import { ProviderError } from "./provider-http.js";
import type { BackfillPage, PulledRecord, Source } from "./source.js";
import {
  addRequestCounts,
  commitBackfillPage,
  commitChangeMark,
  commitChanges,
  finishCollectionRebackfill,
  insertSeen,
  recordSourceError,
  type SourceError,
  selectUnseen,
  startRebackfill,
} from "./source-queries.js";

/**
 * A backfill page asked for ahead of its turn. Changes committed while it was on its way are newer than
 * what it read (their re-reads came after it was asked for): `overtaken` keeps their keys, and the page
 * leaves those objects alone when it commits.
 */
interface PageAhead {
  token: string | null;
  page: Promise<BackfillPage>;
  overtaken: Set<string>;
}

export interface SourceAssignment {
  syncId: string;
  name: string;
  fence: string;
  collections: readonly string[];
  changeCursor: unknown;
  rebackfill: string | null;
  backfill: ReadonlyMap<string, { token: string | null; done: boolean }>;
  lastError: SourceError | null;
  pollIntervalMs: number;
}

export interface SourceRunnerOptions {
  /** Retrying while the provider fails: long enough never to storm a provider that refuses us. */
  failureBackoff: BackoffOptions;
  /** Retrying while the service's store fails. */
  storeBackoff: BackoffOptions;
}

export const defaultSourceRunnerOptions: SourceRunnerOptions = {
  failureBackoff: { initialMs: 2000, maxMs: 300_000 },
  storeBackoff: { initialMs: 250, maxMs: 3000 },
};

export interface SourceRunnerDeps {
  store: pg.Pool;
  source: Source;
  log: Logger;
}

export interface SourceSnapshot {
  syncId: string;
  lastError: SourceError | null;
  backfilling: boolean;
}

export class SourceRunner {
  private readonly loop: WorkLoop;
  private cursor: unknown;
  private rebackfill: string | null;
  private readonly backfill = new Map<string, { token: string | null; done: boolean }>();
  private lastError: SourceError | null;
  private nextPollAt = 0;
  private turn = 0;
  private readonly failureBackoff: Backoff;
  private readonly storeBackoff: Backoff;
  /** Aborted by stop(): a request in flight (or waiting its turn in the allotment) gives up. */
  private readonly stopping = new AbortController();
  private requests = 0;
  private throttled = 0;
  /**
   * The next backfill page of each collection still backfilling, already asked for: one request in flight
   * per collection (its pages follow one another), so pages arrive while others commit, within the
   * allotment. Used only if the collection's token still matches (a re-backfill starts them over).
   */
  private readonly pagesAhead = new Map<string, PageAhead>();

  constructor(
    private readonly assignment: SourceAssignment,
    private readonly deps: SourceRunnerDeps,
    options: SourceRunnerOptions = defaultSourceRunnerOptions,
  ) {
    this.cursor = assignment.changeCursor;
    this.rebackfill = assignment.rebackfill;
    for (const collection of assignment.collections)
      this.backfill.set(collection, assignment.backfill.get(collection) ?? { token: null, done: false });
    this.lastError = assignment.lastError;
    this.failureBackoff = new Backoff(options.failureBackoff);
    this.storeBackoff = new Backoff(options.storeBackoff);
    this.loop = new WorkLoop(
      { round: () => this.round(), failed: (error) => this.failed(error) },
      {
        idleMs: assignment.pollIntervalMs,
        onCrash: (error) =>
          deps.log.error({ sync: assignment.name, err: error }, "source runner failed to handle a failure"),
      },
    );
  }

  get fence(): string {
    return this.assignment.fence;
  }

  get stopped(): boolean {
    return this.loop.stopped;
  }

  start(): void {
    this.loop.start();
  }

  /** Polls now instead of at the next interval. */
  notify(): void {
    this.nextPollAt = 0;
    this.loop.notify();
  }

  /** Counts a request the source made (its HTTP client reports each). */
  countRequest(throttled: boolean): void {
    this.requests += 1;
    if (throttled) this.throttled += 1;
  }

  async stop(): Promise<void> {
    this.stopping.abort(new Error("the source runner is stopping"));
    await this.loop.stop();
  }

  snapshot(): SourceSnapshot {
    return {
      syncId: this.assignment.syncId,
      lastError: this.lastError,
      backfilling: [...this.backfill.values()].some((b) => !b.done),
    };
  }

  private get syncId(): string {
    return this.assignment.syncId;
  }

  private get signal(): AbortSignal {
    return this.stopping.signal;
  }

  private async round(): Promise<boolean> {
    const source = this.deps.source;
    if (this.cursor === null || this.cursor === undefined) {
      const mark = await source.changeMark(this.signal);
      if (
        !(await commitChangeMark(this.deps.store, { syncId: this.syncId, fence: this.fence, cursor: mark }))
      )
        return this.leaseLost();
      this.cursor = mark;
    }
    let more = false;
    if (Date.now() >= this.nextPollAt) {
      const page = await source.changesSince(this.cursor, this.assignment.collections, this.signal);
      if ("expired" in page) return this.beginRebackfill(page.expired);
      const committed = await this.commit(page.records, (client) =>
        commitChanges(client, { syncId: this.syncId, fence: this.fence, cursor: page.cursor }),
      );
      if (!committed) return this.leaseLost();
      for (const ahead of this.pagesAhead.values())
        for (const r of page.records) ahead.overtaken.add(recordKey(r));
      this.cursor = page.cursor;
      if (page.more) more = true;
      else this.nextPollAt = Date.now() + this.assignment.pollIntervalMs;
    }
    const pending = [...this.backfill].filter(([, b]) => !b.done).map(([collection]) => collection);
    if (pending.length > 0) {
      for (const c of pending) this.askAhead(c, this.backfill.get(c)!.token);
      const collection = pending[this.turn++ % pending.length]!;
      const ahead = this.pagesAhead.get(collection)!;
      this.pagesAhead.delete(collection);
      const page = await ahead.page;
      // the page after this one is on its way while this one commits
      if (page.next !== null) this.askAhead(collection, page.next);
      const done = page.next === null;
      const fresh = page.records.filter((r) => !ahead.overtaken.has(recordKey(r)));
      const committed = await this.commit(fresh, (client) =>
        commitBackfillPage(client, {
          syncId: this.syncId,
          fence: this.fence,
          collection,
          token: page.next,
          fetched: page.records.length,
          done,
        }),
      );
      if (!committed) return this.leaseLost();
      this.backfill.set(collection, { token: page.next, done });
      if (done) await this.backfillDone(collection);
      more = more || pending.length > 1 || !done;
    }
    await this.recovered();
    return more;
  }

  /** Asks for a collection's page at `token` unless it is already on its way. */
  private askAhead(collection: string, token: string | null): void {
    if (this.pagesAhead.get(collection)?.token === token) return;
    const page = this.deps.source.backfillPage(collection, token, this.signal);
    // a failure surfaces when (and if) the page is used
    page.catch(() => {});
    this.pagesAhead.set(collection, { token, page, overtaken: new Set() });
  }

  /**
   * Records and the position they reach in one store transaction: the records stamped with the store's
   * clock, each a microsecond after the previous. During a re-backfill their ids are kept as seen.
   * False when the lease moved (nothing was written).
   */
  private async commit(
    records: PulledRecord[],
    position: (client: pg.PoolClient) => Promise<boolean>,
  ): Promise<boolean> {
    const store = this.deps.store;
    const outcome = await withTransaction(store, async (client) => {
      let accepted = 0;
      let provider: string | undefined;
      if (records.length > 0) {
        const { rows } = await client.query<{ micros: string }>(
          "select (extract(epoch from clock_timestamp()) * 1000000)::bigint::text as micros",
        );
        const micros = BigInt(rows[0]!.micros);
        const incoming: IncomingRecord[] = records.map((r, i) => ({
          collection_id: r.collection_id,
          upstream_id: r.upstream_id,
          upstream_updated_at: isoMicros(micros + BigInt(i)),
          ...(r.deleted ? { deleted: true } : { payload: r.payload! }),
        }));
        const ingested = await ingestWithin(client, this.syncId, incoming, { sameIsStale: true });
        accepted = ingested.result.accepted;
        provider = ingested.provider;
        if (this.rebackfill)
          await insertSeen(client, {
            syncId: this.syncId,
            ids: records
              .filter((r) => !r.deleted)
              .map((r) => ({ collection: r.collection_id, id: r.upstream_id })),
          });
      }
      if (!(await position(client))) throw leaseMoved;
      return { accepted, provider };
    }).catch((error: unknown) => {
      if (error === leaseMoved) return null;
      throw error;
    });
    if (outcome === null) return false;
    if (outcome.accepted > 0 && outcome.provider) notifyStreamChanged(store, outcome.provider);
    await this.flushRequestCounts();
    return true;
  }

  /**
   * The requests counted since the last flush, added to the sync's totals (metrics, the sync's page): after
   * each commit, and after each failure, so a sync that keeps failing (a spent quota, a refused credential)
   * shows the requests it keeps making and the provider's 429s as they happen.
   */
  private async flushRequestCounts(): Promise<void> {
    const counts = { requests: this.requests, throttled: this.throttled };
    await addRequestCounts(this.deps.store, { syncId: this.syncId, ...counts });
    this.requests -= counts.requests;
    this.throttled -= counts.throttled;
  }

  /** A collection's backfill read its last page; at the end of a re-backfill, what was not read again goes. */
  private async backfillDone(collection: string): Promise<void> {
    if (!this.rebackfill) return;
    const gone = await selectUnseen(this.deps.store, { syncId: this.syncId, collection });
    const deletes = gone.map((id) => ({
      collection_id: collection,
      upstream_id: id,
      payload: null,
      deleted: true,
    }));
    const committed = await this.commit(deletes, (client) =>
      finishCollectionRebackfill(client, { syncId: this.syncId, fence: this.fence, collection }),
    );
    if (!committed) {
      this.leaseLost();
      return;
    }
    if ([...this.backfill.values()].every((b) => b.done)) this.rebackfill = null;
    this.deps.log.info(
      { sync: this.assignment.name, collection, deleted: gone.length },
      "re-backfill of a collection done; records no longer upstream deleted",
    );
  }

  private async beginRebackfill(reason: string): Promise<boolean> {
    if (!(await startRebackfill(this.deps.store, { syncId: this.syncId, fence: this.fence, reason })))
      return this.leaseLost();
    this.deps.log.warn({ sync: this.assignment.name, reason }, "reading everything again (re-backfill)");
    this.rebackfill = reason;
    this.cursor = null;
    // pages asked for before the re-backfill began may show objects deleted since: ask again
    this.pagesAhead.clear();
    for (const collection of this.backfill.keys())
      this.backfill.set(collection, { token: null, done: false });
    return true;
  }

  private leaseLost(): boolean {
    this.deps.log.warn(
      { sync: this.assignment.name, fence: this.fence },
      "the store refused this worker's write: the sync's lease moved to another worker; stopping here",
    );
    this.loop.requestStop();
    return false;
  }

  private async recovered(): Promise<void> {
    this.storeBackoff.reset();
    if (!this.lastError) return;
    await recordSourceError(this.deps.store, { syncId: this.syncId, fence: this.fence, error: null });
    this.deps.log.info({ sync: this.assignment.name }, "the sync is pulling again");
    this.lastError = null;
    this.failureBackoff.reset();
  }

  /** The provider's failures make the sync failing (kept, retried with backoff); the store's are waited out. */
  private async failed(error: unknown): Promise<void> {
    if (this.stopping.signal.aborted) return;
    const failure = providerFailure(error);
    if (!failure) {
      this.deps.log.warn(
        { sync: this.assignment.name, err: (error as Error)?.message },
        "the service's store failed; retrying",
      );
      await this.loop.wait(this.storeBackoff.next());
      return;
    }
    const known = this.lastError?.kind === failure.kind && this.lastError.message === failure.message;
    if (!known)
      this.deps.log.warn(
        { sync: this.assignment.name, kind: failure.kind, err: failure.message },
        "the sync is failing",
      );
    const error_ = { ...failure, at: new Date().toISOString() };
    if (
      !(await recordSourceError(this.deps.store, { syncId: this.syncId, fence: this.fence, error: error_ }))
    ) {
      this.leaseLost();
      return;
    }
    this.lastError = error_;
    await this.flushRequestCounts();
    await this.loop.wait(this.failureBackoff.next());
  }
}

/** Thrown inside a commit's transaction to roll it back when the lease moved; never leaves commit(). */
const leaseMoved = Symbol("lease moved");

/** A failure that is the provider's (or its data's), as the sync's error; undefined for the store's. */
function providerFailure(error: unknown): { kind: string; message: string } | undefined {
  if (error instanceof ProviderError) return { kind: error.kind, message: error.message };
  // a record the stream refuses (too large, a bad id): the provider's data, named by ingest
  if (error instanceof SequinError && error.code === "validation_failed")
    return { kind: "invalid_record", message: error.message };
  return undefined;
}

function recordKey(record: PulledRecord): string {
  return `${record.collection_id}\u0000${record.upstream_id}`;
}

/** Microseconds since the epoch as ISO-8601 with six fractional digits. */
function isoMicros(micros: bigint): string {
  const ms = Number(micros / 1000n);
  const rest = String(micros % 1000n).padStart(3, "0");
  return new Date(ms).toISOString().replace("Z", `${rest}Z`);
}
