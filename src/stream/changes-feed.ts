/**
 * The changes feed: a sync's or a provider's stream read by position through an opaque cursor, for users
 * who build their own consumer (GET /v1/changes, docs/changes-feed.md). Same rule as our consumers:
 * stream order, the newest version of each record, deletes included, and never a skipped change (rows
 * are visible only below the watermark, see change-queries.ts).
 *
 * A long poll waits on the stream's LISTEN/NOTIFY wake-ups, holding no store connection while it waits,
 * and reads again at least every `backstopMs` (a notification may be lost, and a change held back by the
 * watermark becomes visible when some other transaction ends, which nobody announces).
 */
import type pg from "pg";
import { validationError } from "../errors.js";
import { type Change, type Cursor, type StreamFilter, streamStart } from "./change-queries.js";
import { decodeFeedCursor, encodeFeedCursor, type FeedBinding, feedBinding } from "./feed-cursor.js";
import { readFeedPage, readStoreIdentity } from "./feed-queries.js";
import { StreamListener, type WakeFilter } from "./stream-listener.js";
import { getSync } from "./syncs.js";

export interface FeedRequest {
  filter: StreamFilter;
  collectionId?: string | undefined;
  /** The `next` of a previous page; from the start of the stream when absent. */
  after?: string | undefined;
  limit?: number | undefined;
  /** How long to wait for a change when none is there yet (0: answer at once). */
  waitMs?: number | undefined;
  /** Aborted when the client went away: the wait ends. */
  signal?: AbortSignal | undefined;
}

export type FeedChange = Omit<Change, "txid" | "position">;

export interface FeedPage {
  data: FeedChange[];
  next: string;
}

export interface ChangesFeedOptions {
  /** The store's URL, for the LISTEN connection; without it a long poll reads every `backstopMs`. */
  listenUrl?: string | undefined;
  backstopMs?: number;
  /** Changes a read may walk past in search of a collection's own. */
  scanLimit?: number;
}

export const defaultFeedLimit = 1000;
const quickRetryMs = 10;
export const maxFeedLimit = 10_000;
export const maxFeedWaitMs = 30_000;

export class ChangesFeed {
  private listener: StreamListener | undefined;
  private identity: Promise<string> | undefined;
  private readonly stopping = new AbortController();
  private readonly backstopMs: number;
  private readonly scanLimit: number;

  constructor(
    private readonly pool: pg.Pool,
    private readonly options: ChangesFeedOptions = {},
  ) {
    this.backstopMs = options.backstopMs ?? 1000;
    this.scanLimit = options.scanLimit ?? 10_000;
  }

  /**
   * The changes after the request's cursor, up to its limit. With `waitMs`, a read that finds none waits
   * for one (or for the time to run out, the client to leave, the service to stop) and answers what it has:
   * possibly no changes and the cursor it started from.
   */
  async read(request: FeedRequest): Promise<FeedPage> {
    const collectionId = request.collectionId ?? null;
    const limit = request.limit ?? defaultFeedLimit;
    const wakeFilter = await this.wakeFilterOf(request.filter);
    const binding = feedBinding(await this.storeIdentity(), request.filter, collectionId);
    let cursor = request.after === undefined ? streamStart : this.position(request.after, binding);

    const deadline = Date.now() + (request.waitMs ?? 0);
    const signals = [this.stopping.signal, ...(request.signal ? [request.signal] : [])];
    let woken = new AbortController();
    // subscribed before the first read, so a commit between a read and the wait is not missed
    const unsubscribe = request.waitMs ? this.subscribe(wakeFilter, () => woken.abort()) : () => {};
    let retryMs = this.backstopMs;
    try {
      while (true) {
        woken = new AbortController();
        const scan = await readFeedPage(
          this.pool,
          request.filter,
          collectionId,
          cursor,
          limit,
          this.scanLimit,
        );
        if (!scan.cursorKnown)
          throw cursorError("is ahead of this store's stream: it comes from another store");
        const last = scan.changes.at(-1);
        // a full page ends at its last change; otherwise everything the scan walked past is consumed
        if (scan.changes.length === limit && last) cursor = last;
        else if (scan.scannedTo) cursor = scan.scannedTo;
        const left = deadline - Date.now();
        if (scan.changes.length > 0 || left <= 0 || signals.some((s) => s.aborted)) {
          return { data: scan.changes.map(withoutPosition), next: encodeFeedCursor(cursor, binding) };
        }
        await delayUnlessAborted(Math.min(left, retryMs), [woken.signal, ...signals]);
        // after a wake, read at once; when that finds nothing new, the change may be held back by another
        // transaction of the store that is about to end (nobody announces that): look again soon, then
        // less and less often, down to the periodic read
        retryMs = woken.signal.aborted ? quickRetryMs : Math.min(retryMs * 2, this.backstopMs);
      }
    } finally {
      unsubscribe();
    }
  }

  /** Whether stop() was called: the service is shutting down. */
  get stopped(): boolean {
    return this.stopping.signal.aborted;
  }

  /** Ends every wait now (their requests answer what they have) and closes the LISTEN connection. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.listener?.stop();
  }

  private position(after: string, binding: FeedBinding): Cursor {
    const decoded = decodeFeedCursor(after, binding);
    if (!decoded.ok) throw cursorError(decoded.problem);
    return decoded.position;
  }

  private storeIdentity(): Promise<string> {
    this.identity ??= readStoreIdentity(this.pool).catch((error) => {
      this.identity = undefined;
      throw error;
    });
    return this.identity;
  }

  /** A sync's wake-ups come by its provider; reading the sync also answers 404 for one that does not exist. */
  private async wakeFilterOf(filter: StreamFilter): Promise<WakeFilter> {
    if ("provider" in filter) return { provider: filter.provider };
    return { provider: (await getSync(this.pool, filter.syncId)).provider };
  }

  /**
   * The listener starts with the first long poll: a process nobody polls keeps no extra connection. Its
   * connection is not awaited (an unreachable store would hold the request): until it is up, or while it
   * reconnects, the periodic read stands in, and it wakes every subscriber once connected.
   */
  private subscribe(filter: WakeFilter, wake: () => void): () => void {
    const url = this.options.listenUrl;
    if (!url || this.stopping.signal.aborted) return () => {};
    if (!this.listener) {
      this.listener = new StreamListener(url);
      void this.listener.start();
    }
    return this.listener.subscribe(filter, wake);
  }
}

/**
 * Waits `ms` or until one of `signals` aborts. Its listeners are removed when it ends: a long poll waits
 * many times on the feed's one shutdown signal, and AbortSignal.any would leave a listener there each time.
 */
function delayUnlessAborted(ms: number, signals: AbortSignal[]): Promise<void> {
  if (signals.some((signal) => signal.aborted)) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      for (const signal of signals) signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    for (const signal of signals) signal.addEventListener("abort", done, { once: true });
  });
}

function withoutPosition({ txid: _txid, position: _position, ...change }: Change): FeedChange {
  return change;
}

function cursorError(problem: string) {
  return validationError({ after: [problem] }, `invalid query parameter after: ${problem}`);
}
