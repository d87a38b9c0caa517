/**
 * Runs one consumer: plan the next batch after its position (its end, its tombstones) → copy those changes
 * from the store straight into the target (no parsing in Node) → advance the position once the target
 * committed → wait for a wake-up. While a full batch is written the next one is planned. Backfill and
 * live are the same loop; "backfilling" ends when the position first reaches the stream head seen at
 * start.
 *
 * Failures: an unreachable target moves the consumer to waiting_for_target and probes it with capped
 * backoff; a write the target refuses is isolated by splitting the batch, everything before it is applied,
 * and the consumer stays failing on that record (later versions wait behind it), retrying with backoff.
 * A rewrite (a user's re-backfill, or the consumer's own when it finds its table dropped and created again or
 * emptied behind its position) walks the stream from the start up to the position it began at, one batch
 * between live batches, so live changes keep flowing; at the end, rows no longer in the stream are
 * deleted. Both lanes write the newest version of each record, so their order in the target never matters.
 * When the service's own store fails, the consumer keeps its state (the store is where states are
 * written), retries every few seconds, and records the outage as an event once the store is back; a store
 * failure is never taken for the target's.
 */
import type { Readable } from "node:stream";
import type pg from "pg";
import { to as copyTo } from "pg-copy-streams";
import type { Logger } from "pino";
import { isStoreOutage } from "../db/store-outage.js";
import { plural } from "../plural.js";
import { abortable, Backoff, type BackoffOptions, delay, withTimeout } from "../runtime/index.js";
import {
  type BatchBounds,
  type ChangeKey,
  type Cursor,
  compareCursors,
  copyChangesOutSql,
  copyKeptIdsOutSql,
  copyLiveRowsOutSql,
  countChangesUpTo,
  hasLiveRecordsUpTo,
  readBatchBounds,
  readChangeKeys,
  type StreamFilter,
  storeCopySession,
  streamStart,
} from "../stream/index.js";
import {
  type ApplyResult,
  applyBatch,
  classifyTargetError,
  deleteRowsNotIn,
  FenceRefused,
  insertBatchDirect,
  prepareFencedSession,
  readTableIdentity,
  type TableIdentity,
  type TableName,
  type TargetErrorClass,
  type TargetFence,
  tableIsEmpty,
  takeFence,
} from "../targets/postgres/index.js";
import {
  type ConsumerEvent,
  type ConsumerState,
  type RunningPhase,
  transition,
} from "./consumer-lifecycle.js";
import {
  commitPosition,
  insertConsumerEvent,
  type LastError,
  recordFailedRetry,
  updateRunnerState,
} from "./consumer-queries.js";
import {
  beginRewrite,
  commitRewritePosition,
  finishRewrite,
  recordTableIdentity,
  rewriteCountCap,
} from "./rewrite-queries.js";

export interface RunnerOptions {
  batchSize: number;
  /** Backstop when a wake-up is lost. */
  pollIntervalMs: number;
  /** Probing an unreachable target. */
  probeBackoff: BackoffOptions;
  /** Retrying a refused write. */
  retryBackoff: BackoffOptions;
  /** Retrying while the service's store is unreachable: short, so the consumer resumes soon after it returns. */
  storeRetryBackoff: BackoffOptions;
  /** How long one probe of an unreachable target may take. */
  probeTimeoutMs: number;
}

export const defaultRunnerOptions: RunnerOptions = {
  batchSize: 20_000,
  pollIntervalMs: 1000,
  probeBackoff: { initialMs: 250, maxMs: 30_000 },
  retryBackoff: { initialMs: 1000, maxMs: 60_000 },
  storeRetryBackoff: { initialMs: 250, maxMs: 3000 },
  probeTimeoutMs: 5000,
};

export interface ConsumerAssignment {
  id: string;
  name: string;
  fence: string;
  filter: StreamFilter;
  table: TableName;
  cursor: Cursor;
  state: ConsumerState;
  /** Where backfilling ends; null once the consumer is live. */
  backfillHead: Cursor | null;
  /** The table the consumer last wrote to; null before its first batch. */
  tableIdentity: TableIdentity | null;
  /** A rewrite of the table under way, or null. */
  rewrite: Rewrite | null;
}

/** A rewrite of the table from the stream: its own cursor walks from the start up to `head`. */
export interface Rewrite {
  reason: string;
  cursor: Cursor;
  head: Cursor;
}

/** Which cursor a batch moves: the consumer's position, or the walk of a rewrite. */
type Lane = "stream" | "rewrite";

export interface ConsumerRef {
  id: string;
  name: string;
}

export interface BatchApplied {
  consumer: ConsumerRef;
  upserted: number;
  deleted: number;
  rows: number;
  seconds: number;
}

export interface RunnerDeps {
  store: pg.Pool;
  /** A new connection to the consumer's target. */
  connectTarget: () => Promise<pg.Client>;
  log: Logger;
  onBatch?: (batch: BatchApplied) => void;
  onError?: (consumer: ConsumerRef, error: { kind: string; sqlstate?: string }) => void;
  /**
   * The worker's lease: a target session idle inside a transaction for longer ends itself, so a worker frozen
   * just before its COMMIT cannot hold the consumer's fence row from the next owner for long.
   */
  leaseSeconds?: number;
}

export interface RunnerSnapshot {
  id: string;
  state: ConsumerState;
  cursor: Cursor;
  lastError: LastError | null;
  /** Set while the service's store cannot be reached (the state above is then the last one written). */
  storeUnreachable: LastError | null;
}

/** Another worker owns the consumer now: the store (`where`) refused a write under this runner's fence. */
class LostLease extends Error {}
/** A call to the service's own store failed: waited out, never blamed on the target. */
class StoreFailed extends Error {}
/** The target monitor found the target unreachable; the batch in flight (if any) was cut. */
class TargetDown extends Error {}
/** The target refuses this one record; everything before it was applied. */
class RecordRefused extends Error {
  constructor(
    readonly record: ChangeKey,
    readonly sqlstate: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

export class ConsumerRunner {
  private state: ConsumerState;
  private cursor: Cursor;
  private backfillHead: Cursor | null;
  private lastError: LastError | null = null;
  private target: pg.Client | undefined;
  private stopping = false;
  private wakeUp: (() => void) | undefined;
  private woken = false;
  private loop: Promise<void> | undefined;
  private readonly retryBackoff: Backoff;
  private readonly storeRetryBackoff: Backoff;
  /** Since when, and why, the service's store cannot be reached; null while it can. */
  private storeDown: LastError | null = null;
  private targetDown: string | undefined;
  /**
   * While it backfills a table for the first time, the consumer COPYs rows straight in (raw COPY speed);
   * the first batch that cannot go that way (a record already there) turns it off for good.
   */
  private directInsert: boolean;
  private tableIdentity: TableIdentity | null;
  /** Whether the table's identity was checked since this runner started (then before every batch). */
  private tableChecked = false;
  private rewrite: Rewrite | null;
  /** The next batch, planned while the previous one was written (see nextBatch). */
  private plannedBatch: { after: Cursor; bounds: Promise<BatchBounds | null> } | undefined;
  /** Aborted when the target is found down, to cut a connection attempt that would hang until its timeout. */
  private targetDownSignal = new AbortController();
  /** Set when the target user cannot create the fence table: batches then carry no target fence. */
  private targetFenceUnavailable = false;

  constructor(
    private readonly assignment: ConsumerAssignment,
    private readonly deps: RunnerDeps,
    private readonly options: RunnerOptions = defaultRunnerOptions,
  ) {
    this.state = assignment.state;
    this.cursor = assignment.cursor;
    this.backfillHead = assignment.backfillHead;
    this.retryBackoff = new Backoff(options.retryBackoff);
    this.storeRetryBackoff = new Backoff(options.storeRetryBackoff);
    this.directInsert = assignment.backfillHead !== null;
    this.tableIdentity = assignment.tableIdentity;
    this.rewrite = assignment.rewrite;
  }

  get id(): string {
    return this.assignment.id;
  }

  private get ref(): ConsumerRef {
    return { id: this.assignment.id, name: this.assignment.name };
  }

  get fence(): string {
    return this.assignment.fence;
  }

  start(): void {
    this.loop ??= this.run().catch((error) => {
      this.deps.log.error({ consumer: this.assignment.name, err: error }, "consumer runner crashed");
    });
  }

  /** Cuts the current wait short: new changes may be there. */
  notify(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  /**
   * Called by the target monitor when a probe of this consumer's target failed: cuts the batch in flight
   * (a black-holed connection would otherwise hang until TCP gives up) and moves to waiting_for_target.
   */
  markTargetUnreachable(reason: string): void {
    if (this.state === "waiting_for_target") return;
    this.targetDown = reason;
    this.cutTargetConnection(reason);
    this.notify();
  }

  /** Fails the query or connection attempt in flight at once (end() would wait for a dead peer). */
  private cutTargetConnection(reason: string): void {
    this.targetDownSignal.abort(new TargetDown(reason));
    const client = this.target;
    this.target = undefined;
    (
      client as unknown as { connection?: { stream?: { destroy(): void } } } | undefined
    )?.connection?.stream?.destroy();
  }

  /** Lets the batch in flight finish (or roll back), then returns. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.notify();
    await this.loop;
    await this.closeTarget();
  }

  get stopped(): boolean {
    return this.stopping;
  }

  snapshot(): RunnerSnapshot {
    return {
      id: this.assignment.id,
      state: this.state,
      cursor: this.cursor,
      lastError: this.lastError,
      storeUnreachable: this.storeDown,
    };
  }

  private get phase(): RunningPhase {
    return this.backfillHead === null ? "live" : "backfilling";
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      try {
        if (this.targetDown) throw new TargetDown(this.targetDown);
        // the first connection to the target (TLS, password hashing) overlaps planning the first batch
        const connecting = this.target ? undefined : this.connected();
        connecting?.catch(() => {});
        const batch = await this.nextBatch();
        if (this.storeDown) await this.storeRecovered();
        await connecting;
        if (!this.tableChecked) await this.checkTable();
        if (batch) {
          // a full batch: the stream has more, so plan the next one while the target writes this one
          if (batch.count === this.options.batchSize) this.prefetchBatch(batch.upto);
          await this.applyBatchOrSplit(batch, "stream");
          await this.writeSucceeded();
        }
        const rewriting = this.rewrite ? await this.rewriteStep() : false;
        if (this.backfillHead && compareCursors(this.cursor, this.backfillHead) >= 0) {
          this.backfillHead = null;
          this.directInsert = false;
          await this.on("caught_up", null, true);
        }
        if ((batch?.count ?? 0) < this.options.batchSize && !rewriting)
          await this.wait(this.options.pollIntervalMs);
      } catch (error) {
        try {
          await this.handleFailure(error);
        } catch (failure) {
          // recording the failure needs the store, which may be failing too: wait that out (no store calls)
          await this.handleFailure(failure instanceof StoreFailed ? failure : storeFailure(failure));
        }
      }
    }
  }

  /**
   * Runs one call to the service's store; its failure becomes StoreFailed, so the loop waits it out
   * instead of taking it for the target's.
   */
  private async fromStore<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw storeFailure(error);
    }
  }

  private async writeSucceeded(): Promise<void> {
    if (this.state === "failing" || this.state === "waiting_for_target") await this.on("write_succeeded");
    this.retryBackoff.reset();
  }

  /**
   * Is the table still the one this consumer filled? A table dropped and created again (a new oid), or
   * emptied while the stream holds records the consumer already wrote (truncated), is rewritten from the
   * stream. A missing table is left to the write, which fails and says so. Checked before every write of
   * the live lane (one catalog lookup), so a table recreated while a refused batch is being split is
   * noticed too.
   */
  private async checkTable(): Promise<boolean> {
    const target = await this.connected();
    const table = this.assignment.table;
    const current = await readTableIdentity(target, table);
    this.tableChecked = true;
    if (!current) return false;
    const known = this.tableIdentity;
    if (known?.oid === current.oid && known.relfilenode === current.relfilenode) return true;
    let reason: string | null = null;
    if (known && known.oid !== current.oid) reason = "the table was dropped and created again";
    else if (
      compareCursors(this.cursor, streamStart) > 0 &&
      (await tableIsEmpty(target, table)) &&
      (await this.fromStore(() => hasLiveRecordsUpTo(this.deps.store, this.assignment.filter, this.cursor)))
    )
      reason = "the table is empty while the stream holds records the consumer wrote to it";
    if (reason) await this.beginRewrite(reason, current);
    else
      await this.fenced(() =>
        recordTableIdentity(this.deps.store, { ...this.ref, fence: this.fence, identity: current }),
      );
    this.tableIdentity = current;
    return true;
  }

  private async beginRewrite(reason: string, identity: TableIdentity): Promise<void> {
    const head = this.cursor;
    const total = await this.fromStore(() =>
      countChangesUpTo(this.deps.store, this.assignment.filter, head, rewriteCountCap),
    );
    await this.fenced(() =>
      beginRewrite(this.deps.store, {
        id: this.assignment.id,
        fence: this.fence,
        identity,
        start: { reason, head, total },
      }),
    );
    this.rewrite = { reason, cursor: streamStart, head };
    this.directInsert = false;
    this.plannedBatch = undefined;
    const note = `rewriting the table from the stream: ${reason}`;
    await this.recordNote(note);
    this.deps.log.warn(
      { consumer: this.assignment.name, reason, records: total },
      "rewriting the table from the stream",
    );
  }

  /** One batch of the rewrite's walk; at its end, the clean-up. Returns whether more is waiting. */
  private async rewriteStep(): Promise<boolean> {
    const rewrite = this.rewrite!;
    const batch = await this.fromStore(() =>
      readBatchBounds(
        this.deps.store,
        this.assignment.filter,
        rewrite.cursor,
        this.options.batchSize,
        rewrite.head,
      ),
    );
    if (!batch) {
      await this.finishRewrite();
      return false;
    }
    await this.applyBatchOrSplit(batch, "rewrite");
    await this.writeSucceeded();
    return true;
  }

  /** The walk is done: rows no longer in the stream go, then the rewrite is recorded as finished. */
  private async finishRewrite(): Promise<void> {
    const target = await this.connected();
    const live = this.cursor;
    const deleted = await this.withStoreCopy((open) =>
      deleteRowsNotIn(
        target,
        this.assignment.table,
        open(copyKeptIdsOutSql(this.assignment.filter, live)),
        this.batchFence,
      ),
    );
    await this.fenced(() =>
      finishRewrite(this.deps.store, { id: this.assignment.id, fence: this.fence, deleted }),
    );
    this.rewrite = null;
    await this.recordNote(
      `the table was rewritten from the stream${deleted > 0 ? `; ${plural(deleted, "row")} no longer in the stream deleted` : ""}`,
    );
    this.deps.log.info({ consumer: this.assignment.name, deleted }, "table rewritten from the stream");
  }

  /** A store write that checks the fence: false means another worker owns the consumer now. */
  private async fenced(write: () => Promise<boolean>): Promise<void> {
    if (!(await this.fromStore(write))) throw new LostLease("another worker owns this consumer now");
  }

  /** An event in the consumer's history that is not a change of state. */
  private async recordNote(note: string): Promise<void> {
    await this.fromStore(() =>
      insertConsumerEvent(this.deps.store, {
        consumerId: this.assignment.id,
        from: this.state,
        to: this.state,
        note,
      }),
    );
  }

  /** The store answers again after an outage: log it and keep it in the consumer's events. */
  private async storeRecovered(): Promise<void> {
    const down = this.storeDown!;
    const seconds = Math.round((Date.now() - Date.parse(down.at)) / 1000);
    const note = `the service's store was unreachable from ${down.at} for ${seconds} s (${down.message}); the consumer waited and resumed from its position`;
    await this.fromStore(() =>
      insertConsumerEvent(this.deps.store, {
        consumerId: this.assignment.id,
        from: this.state,
        to: this.state,
        note,
      }),
    );
    this.storeDown = null;
    this.storeRetryBackoff.reset();
    this.deps.log.info(
      { consumer: this.assignment.name, seconds },
      "the service's store is reachable again; resuming",
    );
  }

  /** The batch after the position: planned ahead during the previous batch when it was full. */
  private nextBatch(): Promise<BatchBounds | null> {
    const planned = this.plannedBatch;
    this.plannedBatch = undefined;
    if (planned && compareCursors(planned.after, this.cursor) === 0)
      return this.fromStore(() => planned.bounds);
    return this.fromStore(() =>
      readBatchBounds(this.deps.store, this.assignment.filter, this.cursor, this.options.batchSize),
    );
  }

  /**
   * Plans the batch after `after` now, on another store connection. Used only if the position gets
   * there; a failure surfaces when (and if) it is used.
   */
  private prefetchBatch(after: Cursor): void {
    const bounds = readBatchBounds(this.deps.store, this.assignment.filter, after, this.options.batchSize);
    bounds.catch(() => {});
    this.plannedBatch = { after, bounds };
  }

  /**
   * The whole batch in one go; only when the target refuses a write are its keys read, to split it down
   * to the one record it refuses.
   */
  private async applyBatchOrSplit(batch: BatchBounds, lane: Lane): Promise<void> {
    try {
      await this.applyRange(batch.upto, batch.tombstones, lane);
    } catch (error) {
      refusalOf(error);
      const keys = await this.fromStore(() =>
        readChangeKeys(
          this.deps.store,
          this.assignment.filter,
          this.laneCursor(lane),
          batch.count,
          lane === "rewrite" ? this.rewrite!.head : null,
        ),
      );
      await this.applyKeys(keys, lane);
    }
  }

  private laneCursor(lane: Lane): Cursor {
    return lane === "rewrite" ? this.rewrite!.cursor : this.cursor;
  }

  /** Applies keys in order; on a refused write, splits to apply everything before the one bad record. */
  private async applyKeys(keys: ChangeKey[], lane: Lane): Promise<void> {
    try {
      await this.applyRange(
        keys.at(-1)!,
        keys.filter((k) => k.deleted).map((k) => k.sequin_id),
        lane,
      );
    } catch (error) {
      const classified = refusalOf(error);
      if (keys.length === 1) throw new RecordRefused(keys[0]!, classified.sqlstate, classified.message);
      const half = Math.ceil(keys.length / 2);
      await this.applyKeys(keys.slice(0, half), lane);
      await this.applyKeys(keys.slice(half), lane);
    }
  }

  /**
   * One target transaction for the changes in (cursor, upto]; then the fenced position commit.
   * `tombstones`: ids of the deleted records in that range (the first-backfill path deletes them by id).
   */
  private async applyRange(upto: Cursor, tombstones: readonly string[], lane: Lane): Promise<void> {
    const started = process.hrtime.bigint();
    const target = await this.connected();
    // a write that succeeds after the check found no table went into a table created since: check again
    const tableFound = lane === "stream" ? await this.checkTable() : true;
    const after = this.laneCursor(lane);
    let result: ApplyResult | undefined;
    if (this.directInsert && lane === "stream") {
      try {
        result = await this.withStoreCopy((open) =>
          insertBatchDirect(
            target,
            this.assignment.table,
            (stampedAt) => open(copyLiveRowsOutSql(this.assignment.filter, after, upto, stampedAt)),
            tombstones,
            this.batchFence,
          ),
        );
      } catch (error) {
        if (
          error instanceof StoreFailed ||
          error instanceof FenceRefused ||
          classifyTargetError(error).kind === "unreachable"
        )
          throw error;
        // some record is already in the table (or the table refuses): from now on, the normal way
        this.directInsert = false;
      }
    }
    result ??= await this.withStoreCopy((open) =>
      applyBatch(
        target,
        this.assignment.table,
        open(copyChangesOutSql(this.assignment.filter, after, upto)),
        {
          ...(this.batchFence ? { fence: this.batchFence } : {}),
        },
      ),
    );
    const next = { txid: upto.txid, position: upto.position };
    const applied = result;
    if (lane === "rewrite") {
      await this.fenced(() =>
        commitRewritePosition(this.deps.store, {
          id: this.assignment.id,
          fence: this.fence,
          cursor: next,
          rows: applied.upserted,
          deleted: applied.deleted,
        }),
      );
      this.rewrite!.cursor = next;
    } else {
      await this.fenced(() =>
        commitPosition(this.deps.store, {
          id: this.assignment.id,
          fence: this.fence,
          cursor: next,
          upserted: applied.upserted,
          deleted: applied.deleted,
          applied: this.backfillHead ? applied.rows : 0,
        }),
      );
      this.cursor = next;
      if (!tableFound) await this.checkTable();
    }
    this.deps.onBatch?.({
      consumer: this.ref,
      upserted: result.upserted,
      deleted: result.deleted,
      rows: result.rows,
      seconds: Number(process.hrtime.bigint() - started) / 1e9,
    });
  }

  /**
   * Runs `apply` with a way to start one COPY out of the store, on a store connection of its own; store
   * failures become StoreFailed.
   */
  private async withStoreCopy<T>(apply: (open: (copySql: string) => Readable) => Promise<T>): Promise<T> {
    const storeClient = await this.fromStore(() => this.deps.store.connect());
    let storeError: unknown;
    let failed = false;
    try {
      await storeClient.query(storeCopySession).catch((error: unknown) => {
        storeError = error;
        throw error;
      });
      return await apply((copySql) => {
        const out = storeClient.query(copyTo(copySql));
        out.on("error", (error: unknown) => {
          storeError ??= error;
        });
        return out;
      });
    } catch (error) {
      failed = true;
      if (storeError) throw storeFailure(storeError);
      throw error;
    } finally {
      // a COPY cut short leaves the store connection mid-protocol: discard it
      storeClient.release(failed ? true : undefined);
    }
  }

  private async connected(): Promise<pg.Client> {
    if (this.target) return this.target;
    const client = await abortable(this.deps.connectTarget(), this.targetDownSignal.signal, (late) => {
      late.end().catch(() => {});
    });
    // a connection that dies while idle must not crash the process; the next batch reconnects
    client.on("error", () => {
      if (this.target === client) this.target = undefined;
    });
    try {
      await this.takeTargetFence(client);
    } catch (error) {
      await client.end().catch(() => {});
      throw error;
    }
    this.target = client;
    return client;
  }

  /**
   * The fence in the target (targets/postgres/target-fence.ts): taken on every new session, so once this
   * runner wrote there, nothing of an older owner commits. A user without the right to create the fence
   * table in the consumer's schema loses only this second check (the store's stays), with a warning.
   */
  private async takeTargetFence(client: pg.Client): Promise<void> {
    if (this.targetFenceUnavailable) return;
    const fence = this.targetFence;
    try {
      // never below 5 s: a busy process may pause that long between two statements of its own batch
      const idleMs = Math.max(5, this.deps.leaseSeconds ?? 15) * 1000;
      await prepareFencedSession(client, fence.schema, idleMs);
    } catch (error) {
      if ((error as { code?: string }).code !== "42501") throw error;
      this.targetFenceUnavailable = true;
      this.deps.log.warn(
        { consumer: this.assignment.name, schema: fence.schema },
        "the target user may not create the fence table sequin_fences in the consumer's schema; only the store checks this worker's lease (grant create on the schema to the user)",
      );
      return;
    }
    if (!(await takeFence(client, fence))) throw new FenceRefused(fence.fence);
  }

  /** This runner's fence as the target checks it; undefined when the target cannot hold one. */
  private get batchFence(): TargetFence | undefined {
    return this.targetFenceUnavailable ? undefined : this.targetFence;
  }

  private get targetFence(): TargetFence {
    return { schema: this.assignment.table.schema, consumerId: this.assignment.id, fence: this.fence };
  }

  private async closeTarget(): Promise<void> {
    const client = this.target;
    this.target = undefined;
    await client?.end().catch(() => {});
  }

  private async handleFailure(error: unknown): Promise<void> {
    const log = this.deps.log;
    if (error instanceof FenceRefused && error.missing) {
      log.warn({ consumer: this.assignment.name, err: error.message }, "the target's fence table is gone");
      this.stopping = true;
      return;
    }
    if (error instanceof LostLease || error instanceof FenceRefused) {
      const where = error instanceof LostLease ? "store" : "target";
      log.warn(
        { consumer: this.assignment.name, fence: this.fence, refusedBy: where },
        `the ${where} refused this worker's write: the consumer's lease moved to another worker; stopping here`,
      );
      this.stopping = true;
      return;
    }
    if (error instanceof StoreFailed) {
      if (!this.storeDown) {
        this.storeDown = { message: error.message, at: new Date().toISOString() };
        log.error(
          { consumer: this.assignment.name, err: error.message },
          "the service's store is unreachable; the consumer waits for it and resumes from its position",
        );
      }
      this.deps.onError?.(this.ref, { kind: "store" });
      await this.wait(this.storeRetryBackoff.next());
      return;
    }
    // the monitor found the target down while this batch failed: an outage, unless the target itself
    // answered with a refusal (a SQLSTATE)
    const answered = error instanceof RecordRefused && error.sqlstate !== undefined;
    if (error instanceof TargetDown || (this.targetDown && !answered)) {
      this.deps.onError?.(this.ref, { kind: "unreachable" });
      await this.waitForTarget(this.targetDown ?? (error as Error).message);
      return;
    }
    if (error instanceof RecordRefused) {
      const r = error.record;
      const message = `the target refused record ${r.collection_id}/${r.upstream_id} (sequin_id ${r.sequin_id})${
        error.sqlstate ? ` with SQLSTATE ${error.sqlstate}` : ""
      }: ${error.message}`;
      this.deps.onError?.(this.ref, {
        kind: "refused",
        ...(error.sqlstate ? { sqlstate: error.sqlstate } : {}),
      });
      await this.on("write_refused", {
        message,
        ...(error.sqlstate ? { sqlstate: error.sqlstate } : {}),
        record: { sequin_id: r.sequin_id, collection_id: r.collection_id, upstream_id: r.upstream_id },
        at: new Date().toISOString(),
      });
      await this.wait(this.retryBackoff.next());
      return;
    }
    const classified = classifyTargetError(error);
    this.deps.onError?.(this.ref, {
      kind: classified.kind,
      ...(classified.sqlstate ? { sqlstate: classified.sqlstate } : {}),
    });
    await this.closeTarget();
    if (classified.kind === "unreachable") {
      await this.waitForTarget(classified.message);
      return;
    }
    log.warn({ consumer: this.assignment.name, err: classified.message }, "transient target error; retrying");
    await this.wait(this.options.retryBackoff.initialMs);
  }

  /** The monitor's alarm is moot once we wait for the target ourselves. */
  private clearTargetDown(): void {
    this.targetDown = undefined;
    if (this.targetDownSignal.signal.aborted) this.targetDownSignal = new AbortController();
  }

  /**
   * waiting_for_target: probes with capped exponential backoff, each probe bounded by a timeout (a
   * black-holed connection never answers), until the target answers; then resumes from the position.
   */
  private async waitForTarget(reason: string): Promise<void> {
    this.clearTargetDown();
    await this.closeTarget();
    await this.on("target_unreachable", {
      message: `target unreachable: ${reason}`,
      at: new Date().toISOString(),
    });
    const probeBackoff = new Backoff(this.options.probeBackoff);
    while (!this.stopping) {
      await this.wait(probeBackoff.next(), false);
      if (this.stopping) return;
      this.clearTargetDown();
      try {
        await this.probeOnce();
        await this.on("target_reachable");
        return;
      } catch (error) {
        await this.closeTarget();
        const message = `target unreachable: ${classifyTargetError(error).message}`;
        // one more retry of the same wait: counted, the time the wait began kept
        this.lastError = { message, at: new Date().toISOString() };
        await recordFailedRetry(
          this.deps.store,
          this.assignment.id,
          this.assignment.fence,
          this.lastError,
        ).catch(() => {});
      }
    }
  }

  /** One probe, bounded by the probe timeout: at the deadline the connection (or its attempt) is cut. */
  private async probeOnce(): Promise<void> {
    await withTimeout(this.options.probeTimeoutMs, async (deadline) => {
      deadline.addEventListener("abort", () => this.cutTargetConnection((deadline.reason as Error).message), {
        once: true,
      });
      const client = await this.connected();
      await client.query("select 1");
    });
  }

  /** Moves through the lifecycle table, persisting and logging each real transition. */
  private async on(
    event: ConsumerEvent,
    lastError: LastError | null = null,
    finishBackfill = false,
  ): Promise<void> {
    const next = transition(this.state, event, this.phase);
    if (!next.ok) return;
    const from = this.state;
    const keepError = next.state === from && lastError === null ? this.lastError : lastError;
    if (next.state === from && keepError === this.lastError && !finishBackfill) return;
    const written = await this.fromStore(() =>
      updateRunnerState(this.deps.store, {
        id: this.assignment.id,
        fence: this.assignment.fence,
        state: next.state,
        lastError: keepError,
        failed: lastError !== null,
        finishBackfill,
      }),
    );
    if (!written) {
      // paused by the user or taken over: the supervisor stops this runner
      this.stopping = true;
      return;
    }
    this.state = next.state;
    this.lastError = keepError;
    if (next.state !== from) {
      const note = keepError?.message ?? null;
      await this.fromStore(() =>
        insertConsumerEvent(this.deps.store, {
          consumerId: this.assignment.id,
          from,
          to: next.state,
          note,
        }),
      );
      this.deps.log.info(
        { consumer: this.assignment.name, from, to: next.state, event, note },
        "consumer state changed",
      );
    }
  }

  /** Sleeps up to `ms`, or until notify() when `wakeable`. */
  private async wait(ms: number, wakeable = true): Promise<void> {
    if (this.stopping) return;
    if (wakeable && this.woken) {
      this.woken = false;
      return;
    }
    const wake = new AbortController();
    this.wakeUp = () => {
      if (wakeable || this.stopping) wake.abort();
    };
    await delay(ms, wake.signal);
    this.wakeUp = undefined;
    this.woken = false;
  }
}

function storeFailure(error: unknown): StoreFailed {
  const message = (error as Error)?.message ?? String(error);
  return new StoreFailed(
    isStoreOutage(error)
      ? `the service's store is unreachable: ${message}`
      : `a query of the service's store failed: ${message}`,
    { cause: error },
  );
}

/** The target's refusal of a write, classified; any other failure is rethrown as it is. */
function refusalOf(error: unknown): TargetErrorClass {
  // a connection cut by the target monitor is an outage, not a refusal to split a batch on
  if (
    error instanceof LostLease ||
    error instanceof FenceRefused ||
    error instanceof StoreFailed ||
    error instanceof TargetDown
  )
    throw error;
  const classified = classifyTargetError(error);
  if (classified.kind !== "refused") throw error;
  return classified;
}
