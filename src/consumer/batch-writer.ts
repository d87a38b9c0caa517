/**
 * Writes one planned batch of the stream into the consumer's table, in one target transaction, the rows
 * COPYed from the store straight into the target (never parsed in Node):
 *
 * - **direct COPY** while a table is backfilled for the first time (raw COPY speed); the first batch that
 *   cannot go that way (a record already there, a refusal) turns it off for good;
 * - **staged upsert** otherwise (targets/postgres/batch-apply.ts);
 * - **split on refusal**: when the target refuses the batch, its keys are read and it is halved until the
 *   one record refused; everything before that record is applied and committed, and the refusal is the
 *   outcome (a value, not an error).
 *
 * The lane says where the batch starts and what a commit means (the consumer's position, or a rewrite's
 * walk); its `committed` runs after each target COMMIT, so a split batch moves the lane part by part.
 */
import type { Readable } from "node:stream";
import type pg from "pg";
import { to as copyTo } from "pg-copy-streams";
import {
  type BatchBounds,
  type ChangeKey,
  type Cursor,
  copyChangesOutSql,
  copyLiveRowsOutSql,
  readChangeKeys,
  type StreamFilter,
  storeCopySession,
} from "../stream/index.js";
import {
  type ApplyResult,
  applyBatch,
  insertBatchDirect,
  type TableName,
} from "../targets/postgres/index.js";
import { faultOf, fromStore, refusalOf, storeFault } from "./runner-faults.js";
import type { TargetSession } from "./target-session.js";

/** Which cursor a batch moves, and what runs around each target transaction. */
export interface BatchLane {
  /** Changes after this are written next (it moves as parts of a split batch commit). */
  cursor(): Cursor;
  /** Where the lane's walk ends (a rewrite's head), or null: the stream. */
  readonly head: Cursor | null;
  /** Whether rows may be COPYed straight in (the first backfill of the table). */
  readonly direct: boolean;
  /** Before each target transaction. */
  beforeWrite(): Promise<void>;
  /** After the target committed the changes up to `upto`: move the lane (a fenced store write). */
  committed(upto: Cursor, applied: ApplyResult): Promise<void>;
}

/** The one record the target refuses; everything before it in the batch was applied. */
export interface RefusedRecord {
  record: ChangeKey;
  message: string;
  sqlstate?: string;
}

export type WriteOutcome = { written: true } | { written: false; refused: RefusedRecord };

export interface BatchWriterDeps {
  store: pg.Pool;
  session: TargetSession;
  filter: StreamFilter;
  table: TableName;
  /** After each target transaction, with its counts and duration. */
  onApplied?: (applied: ApplyResult, seconds: number) => void;
}

export class BatchWriter {
  constructor(
    private readonly deps: BatchWriterDeps,
    /** The first backfill into a table: COPY straight in, until a batch cannot. */
    private directInsert: boolean,
  ) {}

  /** No more direct COPY (the backfill ended, or the table is rewritten). */
  endDirectInserts(): void {
    this.directInsert = false;
  }

  /** The whole batch in one go; only when the target refuses it are its keys read, to split it. */
  async write(batch: BatchBounds, lane: BatchLane): Promise<WriteOutcome> {
    try {
      await this.applyRange(batch.upto, batch.tombstones, lane);
      return { written: true };
    } catch (error) {
      if (!refusalOf(error)) throw error;
      const keys = await fromStore(() =>
        readChangeKeys(this.deps.store, this.deps.filter, lane.cursor(), batch.count, lane.head),
      );
      return this.applyKeys(keys, lane);
    }
  }

  /** Applies keys in order; on a refusal, halves them to apply everything before the one record refused. */
  private async applyKeys(keys: ChangeKey[], lane: BatchLane): Promise<WriteOutcome> {
    try {
      await this.applyRange(
        keys.at(-1)!,
        keys.filter((k) => k.deleted).map((k) => k.sequin_id),
        lane,
      );
      return { written: true };
    } catch (error) {
      const refusal = refusalOf(error);
      if (!refusal) throw error;
      if (keys.length === 1) return { written: false, refused: { record: keys[0]!, ...refusal } };
      const half = Math.ceil(keys.length / 2);
      const first = await this.applyKeys(keys.slice(0, half), lane);
      if (!first.written) return first;
      return this.applyKeys(keys.slice(half), lane);
    }
  }

  /**
   * One target transaction for the changes in (lane.cursor, upto], then the lane's commit.
   * `tombstones`: ids of the deleted records in that range (the direct path deletes them by id).
   */
  private async applyRange(upto: Cursor, tombstones: readonly string[], lane: BatchLane): Promise<void> {
    const started = process.hrtime.bigint();
    const session = this.deps.session;
    const target = await session.connection();
    await lane.beforeWrite();
    const after = lane.cursor();
    const { filter, table } = this.deps;
    let result: ApplyResult | undefined;
    if (this.directInsert && lane.direct) {
      try {
        result = await this.withStoreCopy((open) =>
          insertBatchDirect(
            target,
            table,
            (stampedAt) => open(copyLiveRowsOutSql(filter, after, upto, stampedAt)),
            tombstones,
            session.batchFence,
          ),
        );
      } catch (error) {
        // an outage, a lost lease or the store: not a reason to leave the direct path
        if (faultOf(error).kind !== "target_error") throw error;
        // some record is already in the table (or the table refuses): from now on, the normal way
        this.directInsert = false;
      }
    }
    result ??= await this.withStoreCopy((open) =>
      applyBatch(target, table, open(copyChangesOutSql(filter, after, upto)), {
        ...(session.batchFence ? { fence: session.batchFence } : {}),
      }),
    );
    await lane.committed({ txid: upto.txid, position: upto.position }, result);
    this.deps.onApplied?.(result, Number(process.hrtime.bigint() - started) / 1e9);
  }

  /**
   * Runs `apply` with a way to start one COPY out of the store, on a store connection of its own; the
   * store's failures become store faults.
   */
  async withStoreCopy<T>(apply: (open: (copySql: string) => Readable) => Promise<T>): Promise<T> {
    const storeClient = await fromStore(() => this.deps.store.connect());
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
      if (storeError) throw storeFault(storeError);
      throw error;
    } finally {
      // a COPY cut short leaves the store connection mid-protocol: discard it
      storeClient.release(failed ? true : undefined);
    }
  }
}
