/**
 * The write path of a consumer: one batch into one target table, in one transaction. The batch is
 * COPYed into a session temp staging table and moved into the target with a delete and an upsert
 * (the fastest technique measured; see docs/benchmarks.md). Re-applying a batch changes nothing.
 */
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type pg from "pg";
import { withTransaction } from "../../db/transaction.js";
import { copyIntoStaging, createStagingTable, deleteStaged, upsertStaged } from "./apply-queries.js";
import { type ApplyRow, copyTextChunks } from "./copy-text.js";
import { assertIdentifiers, type TableName } from "./identifiers.js";
import { advanceFence, type TargetFence } from "./target-fence.js";

export interface ApplyResult {
  /** Rows inserted, or updated to a newer or different version. */
  upserted: number;
  deleted: number;
  /** Rows of the batch that changed nothing: older or identical versions, deletes of absent rows. */
  unchanged: number;
  /** Rows in the batch. */
  rows: number;
}

/**
 * A batch: COPY text rows `(sequin_id, sync_id, collection_id, upstream_id, payload, upstream_updated_at,
 * deleted)`, e.g. piped from `COPY (select …) TO STDOUT` on another database, or rows in memory.
 */
export type BatchSource = Readable | readonly ApplyRow[];

export interface ApplyOptions {
  /** Aborting while the batch streams in rolls it back and rejects with the abort's error. */
  signal?: AbortSignal;
  /** Moved as the last statement before COMMIT; a newer fence in the target refuses the batch (FenceRefused). */
  fence?: TargetFence;
}

/** Clients whose session already has the staging table. */
const staged = new WeakSet<pg.ClientBase>();

export async function applyBatch(
  client: pg.ClientBase,
  table: TableName,
  source: BatchSource,
  options: ApplyOptions = {},
): Promise<ApplyResult> {
  assertIdentifiers({ "table.schema": table.schema, "table.name": table.name });
  if (Array.isArray(source) && source.length === 0) return { upserted: 0, deleted: 0, unchanged: 0, rows: 0 };
  const input =
    source instanceof Readable ? source : Readable.from(copyTextChunks(source as readonly ApplyRow[]));
  const created = !staged.has(client);
  const result = await withTransaction(client, async () => {
    if (created) await createStagingTable(client);
    const copy = client.query(copyIntoStaging());
    await pipeline(input, copy, options.signal ? { signal: options.signal } : {});
    const rows = copy.rowCount;
    const deleted = await deleteStaged(client, table);
    const upserted = await upsertStaged(client, table);
    if (options.fence) await advanceFence(client, options.fence);
    return { upserted, deleted, unchanged: rows - upserted - deleted, rows };
  });
  // Created inside the transaction: it exists for later batches only once that committed.
  if (created) staged.add(client);
  return result;
}
