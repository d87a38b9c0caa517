/**
 * SQL of the changes feed (GET /v1/changes). Visibility is the consumers' rule (change-queries.ts): only
 * rows whose txid is below the stream's watermark, so a change that commits late sorts after any cursor
 * the feed has handed out.
 */
import type { Queryable } from "../db/queryable.js";
import type { Change, Cursor, StreamFilter } from "./change-queries.js";

export interface FeedScan {
  /** The changes of the page, oldest first. */
  changes: Change[];
  /** The last change the scan passed, matching or not (with a collection filter it may pass others). */
  scannedTo: Cursor | null;
  /** False when `after` lies past everything this store has handed out (it is from another store). */
  cursorKnown: boolean;
}

const isoTimestamp = `to_char(r.upstream_updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/**
 * The next changes after `after`: the scan walks up to `scanLimit` changes of the sync or provider in
 * stream order and keeps up to `limit` of them (those of `collectionId` when given). Walking a bounded
 * window, and reporting where it ended, lets a reader of a small collection in a busy sync move on past
 * the others' changes instead of scanning them again at every call.
 *
 * The window holds keys only; payloads are read for the kept rows, by primary key, in the same statement
 * (so in the same snapshot). `offset 0` keeps that read a lookup per kept row: pulled up into a plain
 * join, the planner hashed the kept rows against a sequential scan of the whole records table. The answer always has one row: with no change kept, its change columns are
 * null and only `scanned_*` and `cursor_known` are set.
 */
export function feedPageSql(filter: StreamFilter): string {
  const scope = "provider" in filter ? "r.provider = $1" : "r.sync_id = $1::uuid";
  return `with scanned as materialized (
  select r.sync_id, r.sequin_id, r.txid, r.position, r.collection_id
  from sequin_records r
  where ${scope} and (r.txid, r.position) > ($2::xid8, $3::bigint)
    and r.txid < (select sequin_stream_watermark())
  order by r.txid, r.position
  limit $4),
picked as (
  select s.sync_id, s.sequin_id, s.txid, s.position from scanned s
  where $5::text is null or s.collection_id = $5::text
  order by s.txid, s.position
  limit $6),
scan_end as (select txid, position from scanned order by txid desc, position desc limit 1)
select (select txid::text from scan_end) as scanned_txid,
       (select position::text from scan_end) as scanned_position,
       $2::xid8 < pg_snapshot_xmax(pg_current_snapshot()) as cursor_known,
       p.txid::text as txid, p.position::text as position, r.sequin_id, r.sync_id, r.collection_id,
       r.upstream_id, r.payload, r.upstream_updated_at, r.deleted
from (select) one
left join (picked p cross join lateral (
    select r.sequin_id, r.sync_id, r.collection_id, r.upstream_id, r.payload,
           ${isoTimestamp} as upstream_updated_at, r.deleted
    from sequin_records r where r.sync_id = p.sync_id and r.sequin_id = p.sequin_id
    offset 0) r) on true
order by p.txid, p.position`;
}

interface FeedRow extends Omit<Change, "txid" | "position"> {
  scanned_txid: string | null;
  scanned_position: string | null;
  cursor_known: boolean;
  txid: string | null;
  position: string | null;
}

export async function readFeedPage(
  db: Queryable,
  filter: StreamFilter,
  collectionId: string | null,
  after: Cursor,
  limit: number,
  scanLimit: number,
): Promise<FeedScan> {
  const value = "provider" in filter ? filter.provider : filter.syncId;
  const { rows } = await db.query<FeedRow>(feedPageSql(filter), [
    value,
    after.txid,
    after.position,
    Math.max(scanLimit, limit),
    collectionId,
    limit,
  ]);
  const first = rows[0]!;
  const changes: Change[] = [];
  for (const { scanned_txid, scanned_position, cursor_known, txid, position, ...change } of rows) {
    if (txid !== null && position !== null) changes.push({ ...change, txid, position });
  }
  return {
    changes,
    scannedTo:
      first.scanned_txid !== null && first.scanned_position !== null
        ? { txid: first.scanned_txid, position: first.scanned_position }
        : null,
    cursorKnown: first.cursor_known,
  };
}

/**
 * What names this store among others: the cluster's system identifier and the database. Reading the
 * control data may be refused to a restricted role on some managed servers; the database name alone
 * then names it, and cursors still cannot cross databases.
 */
export async function readStoreIdentity(db: Queryable): Promise<string> {
  try {
    const { rows } = await db.query<{ identity: string }>(
      "select system_identifier::text || '/' || current_database() as identity from pg_control_system()",
    );
    return rows[0]!.identity;
  } catch (error) {
    if ((error as { code?: string }).code !== "42501") throw error;
    const { rows } = await db.query<{ identity: string }>("select current_database() as identity");
    return rows[0]!.identity;
  }
}
