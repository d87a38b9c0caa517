/**
 * SQL for a consumer's table identity and for rewrites of its table from the stream (migration 008).
 * Statements written by a runner check its fence, like every other runner write.
 */
import type { Cursor, Queryable } from "../stream/index.js";
import { bumpFenceSql, fenceHolds } from "../work/index.js";

/** The where clause of a runner's write: its lease's fence is still `$2` (consumer id `$1`). */
const fenced = fenceHolds("consumer", "$1", "$2");

export interface TableIdentity {
  oid: string;
  relfilenode: string;
}

/** Remembers which table the consumer writes to (the first time, and after a harmless rewrite). */
export async function recordTableIdentity(
  db: Queryable,
  p: { id: string; fence: string; identity: TableIdentity },
): Promise<boolean> {
  const result = await db.query(
    `update sequin_consumers set table_oid = $3::bigint, table_relfilenode = $4::bigint
     where id = $1 and ${fenced}`,
    [p.id, p.fence, p.identity.oid, p.identity.relfilenode],
  );
  return result.rowCount === 1;
}

/** A rewrite's size is counted up to this many records (it only feeds its progress). */
export const rewriteCountCap = 1_000_000;

export interface RewriteStart {
  reason: string;
  /** Where the rewrite's walk ends: the consumer's position when it began. */
  head: Cursor;
  /** How many records the walk covers (capped count). */
  total: number;
}

/**
 * A user asks for a rewrite up to the consumer's position now. The fence moves on so the worker restarts
 * the consumer's runner, which picks the rewrite up (a batch in flight is not committed; it is applied
 * again, harmlessly).
 */
export async function requestRewrite(
  db: Queryable,
  id: string,
  p: { reason: string; total: number },
): Promise<boolean> {
  const result = await db.query(
    `with bumped as (${bumpFenceSql("consumer", "$1")} returning 1)
     update sequin_consumers set rewrite_reason = $2, rewrite_started_at = now(), rewrite_finished_at = null,
       rewrite_cursor_txid = '0', rewrite_cursor_position = 0,
       rewrite_head_txid = cursor_txid, rewrite_head_position = cursor_position,
       rewrite_total = $3, rewrite_done = 0, rewrite_deleted = 0, updated_at = now()
     where id = $1 and (select count(*) from bumped) >= 0`,
    [id, p.reason, p.total],
  );
  return result.rowCount === 1;
}

/** The runner found its table replaced or emptied and starts rewriting it. */
export async function beginRewrite(
  db: Queryable,
  p: { id: string; fence: string; identity: TableIdentity; start: RewriteStart },
): Promise<boolean> {
  const result = await db.query(
    `update sequin_consumers set rewrite_reason = $3, rewrite_started_at = now(), rewrite_finished_at = null,
       rewrite_cursor_txid = '0', rewrite_cursor_position = 0,
       rewrite_head_txid = $4::xid8, rewrite_head_position = $5::bigint,
       rewrite_total = $6, rewrite_done = 0, rewrite_deleted = 0,
       table_oid = $7::bigint, table_relfilenode = $8::bigint, updated_at = now()
     where id = $1 and ${fenced}`,
    [
      p.id,
      p.fence,
      p.start.reason,
      p.start.head.txid,
      p.start.head.position,
      p.start.total,
      p.identity.oid,
      p.identity.relfilenode,
    ],
  );
  return result.rowCount === 1;
}

/** A rewrite batch committed in the target: its cursor moves on. */
export async function commitRewritePosition(
  db: Queryable,
  p: { id: string; fence: string; cursor: Cursor; rows: number; deleted: number },
): Promise<boolean> {
  const result = await db.query(
    `update sequin_consumers set rewrite_cursor_txid = $3::xid8, rewrite_cursor_position = $4,
       rewrite_done = rewrite_done + $5, rewrite_deleted = rewrite_deleted + $6,
       upserted = upserted + $5, deleted = deleted + $6, last_applied_at = now()
     where id = $1 and ${fenced} and rewrite_cursor_txid is not null`,
    [p.id, p.fence, p.cursor.txid, p.cursor.position, p.rows, p.deleted],
  );
  return result.rowCount === 1;
}

/** The walk reached its head and the rows no longer in the stream were deleted. */
export async function finishRewrite(
  db: Queryable,
  p: { id: string; fence: string; deleted: number },
): Promise<boolean> {
  const result = await db.query(
    `update sequin_consumers set rewrite_finished_at = now(), rewrite_cursor_txid = null,
       rewrite_cursor_position = null, rewrite_deleted = rewrite_deleted + $3, deleted = deleted + $3
     where id = $1 and ${fenced}`,
    [p.id, p.fence, p.deleted],
  );
  return result.rowCount === 1;
}

/** Restarts the consumer's runner (a user's "retry now"): a new fence, so the worker starts it afresh. */
export async function bumpFence(db: Queryable, id: string): Promise<boolean> {
  const result = await db.query(
    `with bumped as (${bumpFenceSql("consumer", "$1")} returning 1)
     update sequin_consumers set updated_at = now() where id = $1 and (select count(*) from bumped) >= 0`,
    [id],
  );
  return result.rowCount === 1;
}
