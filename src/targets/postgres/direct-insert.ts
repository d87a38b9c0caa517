/**
 * The fast path of a first backfill: rows COPYed straight into the consumer table, with no staging table
 * and no upsert, at the speed of a raw COPY. It is only right when the table holds none of the batch's
 * records, which the primary key checks for us: a record already there makes the COPY fail with 23505,
 * the transaction rolls back, and the caller applies the batch the normal way (batch-apply.ts) instead.
 */
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type pg from "pg";
import { withTransaction } from "../../db/transaction.js";
import { copyIntoTable, deleteByIds, transactionTimestamp } from "./apply-queries.js";
import type { ApplyResult } from "./batch-apply.js";
import { assertIdentifiers, type TableName } from "./identifiers.js";
import { advanceFence, type TargetFence } from "./target-fence.js";

/**
 * `openRows(stampedAt)`: starts the COPY text of the live records as contract rows, with `inserted_at`
 * and `updated_at` set to `stampedAt` (this transaction's `now()` on the target, as the upsert path
 * stamps them); `tombstones`: ids of the batch's deleted records, removed in the same transaction;
 * `fence`: moved last before COMMIT (see target-fence.ts).
 */
export async function insertBatchDirect(
  client: pg.ClientBase,
  table: TableName,
  openRows: (stampedAt: string) => Readable,
  tombstones: readonly string[],
  fence?: TargetFence,
): Promise<ApplyResult> {
  assertIdentifiers({ "table.schema": table.schema, "table.name": table.name });
  return withTransaction(client, async () => {
    const stampedAt = await transactionTimestamp(client);
    const copy = client.query(copyIntoTable(table));
    await pipeline(openRows(stampedAt), copy);
    const inserted = copy.rowCount;
    const deleted = await deleteByIds(client, table, tombstones);
    if (fence) await advanceFence(client, fence);
    return {
      upserted: inserted,
      deleted,
      unchanged: tombstones.length - deleted,
      rows: inserted + tombstones.length,
    };
  });
}
