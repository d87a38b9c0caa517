/**
 * Runs one consumer, in the shared work loop (runtime/work-loop.ts). A round: plan the next batch after the
 * position (its end, its tombstones) → the batch writer COPYs those changes from the store into the target
 * → the position advances, fenced, once the target committed → one batch of a rewrite, if one is under way →
 * wait for a wake-up unless more is waiting. While a full batch is written the next one is planned.
 *
 * Modes (the consumer's state, consumer-lifecycle.ts):
 * - backfilling / live: the same loop; "backfilling" ends when the position first reaches the stream head
 *   seen at start. During the first backfill of a table, rows are COPYed straight in.
 * - rewriting (within backfilling or live): a user's re-backfill, or the consumer's own when it finds its
 *   table dropped and created again or emptied behind its position, walks the stream from the start up to
 *   the position it began at, one batch between live batches, so live changes keep flowing; at the end, rows
 *   no longer in the stream are deleted. Both lanes write the newest version of each record, so their order
 *   in the target never matters.
 * - failing: the target refuses a record; the batch was split down to it, everything before it applied; the
 *   consumer retries with backoff (later versions wait behind it).
 * - waiting_for_target: the target cannot be reached (the target session knows why); probed with capped,
 *   jittered backoff, then resumed from the position.
 * - the service's own store fails: the consumer keeps its state (the store is where states are written),
 *   retries every few seconds and records the outage as an event once the store is back; a store failure
 *   is never taken for the target's.
 * - lease lost (the store or the target refused this runner's fence): the runner stops; the worker that
 *   holds the lease now runs the consumer.
 *
 * Every failure of a round is classified once (runner-faults.ts) and handled by its kind.
 */
import type pg from "pg";
import type { Logger } from "pino";
import { plural } from "../plural.js";
import { Backoff, type BackoffOptions, WorkLoop } from "../runtime/index.js";
import {
  type BatchBounds,
  type Cursor,
  compareCursors,
  copyKeptIdsOutSql,
  countChangesUpTo,
  hasLiveRecordsUpTo,
  readBatchBounds,
  type StreamFilter,
  streamStart,
} from "../stream/index.js";
import {
  type ApplyResult,
  deleteRowsNotIn,
  readTableIdentity,
  type TableIdentity,
  type TableName,
  tableIsEmpty,
} from "../targets/postgres/index.js";
import { type BatchLane, BatchWriter, type RefusedRecord } from "./batch-writer.js";
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
import { type Fault, faultOf, fromStore, RunnerFault, storeFault } from "./runner-faults.js";
import { TargetSession } from "./target-session.js";

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

export class ConsumerRunner {
  private state: ConsumerState;
  private cursor: Cursor;
  private backfillHead: Cursor | null;
  private lastError: LastError | null = null;
  private readonly loop: WorkLoop;
  private readonly session: TargetSession;
  private readonly writer: BatchWriter;
  private readonly retryBackoff: Backoff;
  private readonly storeRetryBackoff: Backoff;
  /** Since when, and why, the service's store cannot be reached; null while it can. */
  private storeDown: LastError | null = null;
  private tableIdentity: TableIdentity | null;
  /** Whether the table's identity was checked since this runner started (then before every batch). */
  private tableChecked = false;
  private rewrite: Rewrite | null;
  /** The next batch, planned while the previous one was written (see nextBatch). */
  private plannedBatch: { after: Cursor; bounds: Promise<BatchBounds | null> } | undefined;

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
    this.tableIdentity = assignment.tableIdentity;
    this.rewrite = assignment.rewrite;
    this.loop = new WorkLoop(
      { round: () => this.round(), failed: (error) => this.failed(error) },
      {
        idleMs: options.pollIntervalMs,
        onCrash: (error) =>
          deps.log.error(
            { consumer: assignment.name, err: error },
            "consumer runner failed to handle a failure",
          ),
      },
    );
    this.session = new TargetSession({
      connect: deps.connectTarget,
      fence: { schema: assignment.table.schema, consumerId: assignment.id, fence: assignment.fence },
      ...(deps.leaseSeconds !== undefined ? { leaseSeconds: deps.leaseSeconds } : {}),
      log: deps.log,
      consumerName: assignment.name,
    });
    this.writer = new BatchWriter(
      {
        store: deps.store,
        session: this.session,
        filter: assignment.filter,
        table: assignment.table,
        onApplied: ({ upserted, deleted, rows }, seconds) =>
          deps.onBatch?.({ consumer: this.ref, upserted, deleted, rows, seconds }),
      },
      assignment.backfillHead !== null,
    );
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
    this.loop.start();
  }

  /** Cuts the current wait short: new changes may be there. */
  notify(): void {
    this.loop.notify();
  }

  /**
   * Called by the target monitor when a probe of this consumer's target failed: cuts the batch in flight
   * (a black-holed connection would otherwise hang until TCP gives up) and moves to waiting_for_target.
   */
  markTargetUnreachable(reason: string): void {
    if (this.state === "waiting_for_target") return;
    this.session.markDown(reason);
    this.loop.notify();
  }

  /** Lets the batch in flight finish (or roll back), then returns. */
  async stop(): Promise<void> {
    await this.loop.stop();
    await this.session.close();
  }

  get stopped(): boolean {
    return this.loop.stopped;
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

  /** One round of the loop; true when more is waiting (a full batch, or a rewrite under way). */
  private async round(): Promise<boolean> {
    const down = this.session.downReason;
    if (down) throw new RunnerFault({ kind: "target_down", message: down });
    // the first connection to the target (TLS, password hashing) overlaps planning the first batch
    const connecting = this.session.connection();
    connecting.catch(() => {});
    const batch = await this.nextBatch();
    if (this.storeDown) await this.storeRecovered();
    await connecting;
    if (!this.tableChecked) await this.checkTable();
    if (batch) {
      // a full batch: the stream has more, so plan the next one while the target writes this one
      if (batch.count === this.options.batchSize) this.prefetchBatch(batch.upto);
      // refused: the consumer waited its retry backoff already; the next round retries at once
      if (!(await this.write(batch, this.streamLane()))) return true;
    }
    const rewriting = this.rewrite ? await this.rewriteStep() : false;
    if (this.backfillHead && compareCursors(this.cursor, this.backfillHead) >= 0) {
      this.backfillHead = null;
      this.writer.endDirectInserts();
      await this.on("caught_up", null, true);
    }
    return (batch?.count ?? 0) === this.options.batchSize || rewriting;
  }

  /**
   * Writes a batch. A refused record moves the consumer to failing and waits the retry backoff: then false.
   */
  private async write(batch: BatchBounds, lane: BatchLane): Promise<boolean> {
    const outcome = await this.writer.write(batch, lane);
    if (!outcome.written) {
      await this.recordRefused(outcome.refused);
      return false;
    }
    if (this.state === "failing" || this.state === "waiting_for_target") await this.on("write_succeeded");
    this.retryBackoff.reset();
    return true;
  }

  /** The live lane: the consumer's position; the table's identity checked before every write. */
  private streamLane(): BatchLane {
    let tableFound = true;
    return {
      cursor: () => this.cursor,
      head: null,
      direct: true,
      beforeWrite: async () => {
        tableFound = await this.checkTable();
      },
      committed: async (upto, applied) => {
        await this.fenced(() =>
          commitPosition(this.deps.store, {
            id: this.assignment.id,
            fence: this.fence,
            cursor: upto,
            upserted: applied.upserted,
            deleted: applied.deleted,
            applied: this.backfillHead ? applied.rows : 0,
          }),
        );
        this.cursor = upto;
        // a write that succeeded after the check found no table went into a table created since: check again
        if (!tableFound) await this.checkTable();
      },
    };
  }

  /** A rewrite's lane: its own cursor, walking up to its head. */
  private rewriteLane(rewrite: Rewrite): BatchLane {
    return {
      cursor: () => rewrite.cursor,
      head: rewrite.head,
      direct: false,
      beforeWrite: async () => {},
      committed: async (upto, applied: ApplyResult) => {
        await this.fenced(() =>
          commitRewritePosition(this.deps.store, {
            id: this.assignment.id,
            fence: this.fence,
            cursor: upto,
            rows: applied.upserted,
            deleted: applied.deleted,
          }),
        );
        rewrite.cursor = upto;
      },
    };
  }

  /**
   * Is the table still the one this consumer filled? A table dropped and created again (a new oid), or
   * emptied while the stream holds records the consumer already wrote (truncated), is rewritten from the
   * stream. A missing table is left to the write, which fails and says so. Checked before every write of
   * the live lane (one catalog lookup), so a table recreated while a refused batch is being split is
   * noticed too. Returns whether the table exists.
   */
  private async checkTable(): Promise<boolean> {
    const target = await this.session.connection();
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
      (await fromStore(() => hasLiveRecordsUpTo(this.deps.store, this.assignment.filter, this.cursor)))
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
    const total = await fromStore(() =>
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
    this.writer.endDirectInserts();
    this.plannedBatch = undefined;
    await this.recordNote(`rewriting the table from the stream: ${reason}`);
    this.deps.log.warn(
      { consumer: this.assignment.name, reason, records: total },
      "rewriting the table from the stream",
    );
  }

  /**
   * One batch of the rewrite's walk; at its end, the clean-up. Returns whether more is waiting (a refused
   * batch is retried at once: its backoff was waited already).
   */
  private async rewriteStep(): Promise<boolean> {
    const rewrite = this.rewrite!;
    const batch = await fromStore(() =>
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
    await this.write(batch, this.rewriteLane(rewrite));
    return true;
  }

  /** The walk is done: rows no longer in the stream go, then the rewrite is recorded as finished. */
  private async finishRewrite(): Promise<void> {
    const target = await this.session.connection();
    const live = this.cursor;
    const deleted = await this.writer.withStoreCopy((open) =>
      deleteRowsNotIn(
        target,
        this.assignment.table,
        open(copyKeptIdsOutSql(this.assignment.filter, live)),
        this.session.batchFence,
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
    if (!(await fromStore(write))) throw new RunnerFault({ kind: "lease_lost", where: "store" });
  }

  /** An event in the consumer's history that is not a change of state. */
  private async recordNote(note: string): Promise<void> {
    await fromStore(() =>
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
    await this.recordNote(
      `the service's store was unreachable from ${down.at} for ${seconds} s (${down.message}); the consumer waited and resumed from its position`,
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
    if (planned && compareCursors(planned.after, this.cursor) === 0) return fromStore(() => planned.bounds);
    return fromStore(() =>
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

  /** A round failed. Handling it needs the store, which may be failing too: then that is waited out. */
  private async failed(error: unknown): Promise<void> {
    try {
      await this.handle(faultOf(error));
    } catch (failure) {
      await this.handle(storeFault(failure).fault);
    }
  }

  private async handle(fault: Fault): Promise<void> {
    const log = this.deps.log;
    const name = this.assignment.name;
    switch (fault.kind) {
      case "fence_missing":
        log.warn({ consumer: name, err: fault.message }, "the target's fence table is gone");
        this.loop.requestStop();
        return;
      case "lease_lost":
        log.warn(
          { consumer: name, fence: this.fence, refusedBy: fault.where },
          `the ${fault.where} refused this worker's write: the consumer's lease moved to another worker; stopping here`,
        );
        this.loop.requestStop();
        return;
      case "store":
        if (!this.storeDown) {
          this.storeDown = { message: fault.message, at: new Date().toISOString() };
          log.error(
            { consumer: name, err: fault.message },
            "the service's store is unreachable; the consumer waits for it and resumes from its position",
          );
        }
        this.deps.onError?.(this.ref, { kind: "store" });
        await this.loop.wait(this.storeRetryBackoff.next());
        return;
      case "target_down":
        this.deps.onError?.(this.ref, { kind: "unreachable" });
        await this.waitForTarget(this.session.downReason ?? fault.message);
        return;
      case "target_error":
        // the monitor found the target down while this failed: an outage
        if (this.session.downReason) return this.handle({ kind: "target_down", message: fault.message });
        this.deps.onError?.(this.ref, {
          kind: fault.class,
          ...(fault.sqlstate ? { sqlstate: fault.sqlstate } : {}),
        });
        await this.session.close();
        log.warn({ consumer: name, err: fault.message }, "transient target error; retrying");
        await this.loop.wait(this.options.retryBackoff.initialMs);
        return;
    }
  }

  /**
   * The target refused a record (everything before it was applied): failing, retried with backoff. A
   * refusal without a SQLSTATE while the target is found down is the outage's doing, not a refusal.
   */
  private async recordRefused(refused: RefusedRecord): Promise<void> {
    const down = this.session.downReason;
    if (down && refused.sqlstate === undefined) {
      await this.handle({ kind: "target_down", message: down });
      return;
    }
    const r = refused.record;
    const message = `the target refused record ${r.collection_id}/${r.upstream_id} (sequin_id ${r.sequin_id})${
      refused.sqlstate ? ` with SQLSTATE ${refused.sqlstate}` : ""
    }: ${refused.message}`;
    this.deps.onError?.(this.ref, {
      kind: "refused",
      ...(refused.sqlstate ? { sqlstate: refused.sqlstate } : {}),
    });
    await this.on("write_refused", {
      message,
      ...(refused.sqlstate ? { sqlstate: refused.sqlstate } : {}),
      record: { sequin_id: r.sequin_id, collection_id: r.collection_id, upstream_id: r.upstream_id },
      at: new Date().toISOString(),
    });
    await this.loop.wait(this.retryBackoff.next());
  }

  /**
   * waiting_for_target: probes with capped, jittered backoff, each probe bounded by a timeout (a
   * black-holed connection never answers), until the target answers; then resumes from the position.
   */
  private async waitForTarget(reason: string): Promise<void> {
    this.session.clearDown();
    await this.session.close();
    await this.on("target_unreachable", {
      message: `target unreachable: ${reason}`,
      at: new Date().toISOString(),
    });
    const probeBackoff = new Backoff(this.options.probeBackoff);
    while (!this.loop.stopped) {
      await this.loop.wait(probeBackoff.next(), false);
      if (this.loop.stopped) return;
      this.session.clearDown();
      try {
        await this.session.probe(this.options.probeTimeoutMs);
        await this.on("target_reachable");
        return;
      } catch (error) {
        await this.session.close();
        const fault = faultOf(error);
        const message = `target unreachable: ${"message" in fault ? fault.message : String(error)}`;
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
    const written = await fromStore(() =>
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
      this.loop.requestStop();
      return;
    }
    this.state = next.state;
    this.lastError = keepError;
    if (next.state !== from) {
      const note = keepError?.message ?? null;
      await fromStore(() =>
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
}
