/**
 * Which table a consumer writes to, as the target knows it, and the clean-up at the end of a rewrite.
 *
 * A consumer remembers its table's identity (oid, relfilenode). A new oid means the table was dropped and
 * created again; a new relfilenode with the same oid means it was truncated, or rewritten with its rows
 * (VACUUM FULL, some ALTER TABLEs): `tableIsEmpty` tells those apart.
 */
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import { withTransaction } from "../../db/transaction.js";
import { assertIdentifiers, qualifiedName, type TableName } from "./identifiers.js";
import { advanceFence, type TargetFence } from "./target-fence.js";

export interface TableIdentity {
  oid: string;
  relfilenode: string;
}

/** The table's identity, or null when there is no such table. */
export async function readTableIdentity(
  client: pg.ClientBase,
  table: TableName,
): Promise<TableIdentity | null> {
  assertIdentifiers({ "table.schema": table.schema, "table.name": table.name });
  const { rows } = await client.query<TableIdentity>(
    `select c.oid::text as oid, c.relfilenode::text as relfilenode
     from pg_class c where c.oid = to_regclass($1)`,
    [qualifiedName(table)],
  );
  return rows[0] ?? null;
}

export async function tableIsEmpty(client: pg.ClientBase, table: TableName): Promise<boolean> {
  assertIdentifiers({ "table.schema": table.schema, "table.name": table.name });
  const { rows } = await client.query<{ empty: boolean }>(
    `select not exists (select 1 from ${qualifiedName(table)}) as empty`,
  );
  return rows[0]!.empty;
}

/**
 * Deletes the table's rows whose `sequin_id` is not among `keep` (COPY text, one uuid per line), in one
 * transaction; returns how many were deleted. `fence`: moved last before COMMIT (see target-fence.ts).
 */
export async function deleteRowsNotIn(
  client: pg.ClientBase,
  table: TableName,
  keep: Readable,
  fence?: TargetFence,
): Promise<number> {
  assertIdentifiers({ "table.schema": table.schema, "table.name": table.name });
  return withTransaction(client, async () => {
    await client.query("create temp table sequin_keep (sequin_id uuid primary key) on commit drop");
    await pipeline(keep, client.query(copyFrom("copy sequin_keep (sequin_id) from stdin")));
    await client.query("analyze sequin_keep");
    const result = await client.query(
      `delete from ${qualifiedName(table)} t where not exists (select 1 from sequin_keep k where k.sequin_id = t.sequin_id)`,
    );
    if (fence) await advanceFence(client, fence);
    return result.rowCount ?? 0;
  });
}
