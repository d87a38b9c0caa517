/**
 * Reading the stream in order. A reader's cursor is the (txid, position) of the last change it consumed.
 * Only rows below the stream's watermark are visible (`sequin_stream_watermark()`, migration 007): the
 * oldest transaction of the reader's snapshot still running, passing over those proven to run in another
 * database of the store's server. A writer of the stream that commits late always has a txid at or above
 * it, so its changes sort after any cursor a reader could have reached. Readers therefore wait behind a long
 * write transaction of the store's database, and never skip past it. See docs/streams.md.
 */
import type { Queryable } from "../db/queryable.js";

export type StreamFilter = { provider: string } | { syncId: string };

export interface Cursor {
  /** xid8 of the writing transaction, as a decimal string. */
  txid: string;
  /** stream position within it, as a decimal string. */
  position: string;
}

export const streamStart: Cursor = { txid: "0", position: "0" };

export interface ChangeKey extends Cursor {
  sequin_id: string;
  collection_id: string;
  upstream_id: string;
  deleted: boolean;
}

export interface Change extends ChangeKey {
  sync_id: string;
  payload: Record<string, unknown> | null;
  upstream_updated_at: string;
}

// A scalar subquery, so that the watermark is computed once per statement (an InitPlan), never per row.
const visible = "txid < (select sequin_stream_watermark())";
const isoTimestamp = `to_char(upstream_updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

function filterSql(filter: StreamFilter, param: string): { sql: string; value: string } {
  return "provider" in filter
    ? { sql: `provider = ${param}`, value: filter.provider }
    : { sql: `sync_id = ${param}::uuid`, value: filter.syncId };
}

export function compareCursors(a: Cursor, b: Cursor): number {
  const t = BigInt(a.txid) - BigInt(b.txid);
  if (t !== 0n) return t < 0n ? -1 : 1;
  const p = BigInt(a.position) - BigInt(b.position);
  return p === 0n ? 0 : p < 0n ? -1 : 1;
}

// Queries that return txid/position as text must order by the table's columns (r.txid), not by the
// text output columns of the same name, which would sort "100" before "99".

/**
 * The keys of the next changes after `after` (up to `until` when given), oldest first: enough to plan and
 * split a batch.
 */
export async function readChangeKeys(
  db: Queryable,
  filter: StreamFilter,
  after: Cursor,
  limit: number,
  until: Cursor | null = null,
): Promise<ChangeKey[]> {
  const f = filterSql(filter, "$1");
  const { rows } = await db.query<ChangeKey>(
    `select txid::text as txid, position::text as position, sequin_id, collection_id, upstream_id, deleted
     from sequin_records r
     where ${f.sql} and (txid, position) > ($2::xid8, $3::bigint) and ${visible}
       and ($5::xid8 is null or (txid, position) <= ($5::xid8, $6::bigint))
     order by r.txid, r.position
     limit $4`,
    [f.value, after.txid, after.position, limit, until?.txid ?? null, until?.position ?? null],
  );
  return rows;
}

/** A consumer's next batch: how many changes, the last of them, the ids of the deleted records among them. */
export interface BatchBounds {
  count: number;
  upto: Cursor;
  tombstones: string[];
}

/**
 * What a consumer needs to plan its next batch, computed in the store: how many changes follow `after`
 * (up to `limit`), the last of them (the batch's end) and the ids of its tombstones. One row comes back
 * instead of `limit` keys: reading and parsing 20,000 keys in Node took longer than the store's scan.
 * The positions come from an index-only scan; the tombstones from the partial indexes of deleted records
 * (migration 006), so the range's rows are not read twice (the COPY reads them once). With `until`, the
 * batch ends there at the latest (a rewrite's walk up to its head).
 */
export async function readBatchBounds(
  db: Queryable,
  filter: StreamFilter,
  after: Cursor,
  limit: number,
  until: Cursor | null = null,
): Promise<BatchBounds | null> {
  const f = filterSql(filter, "$1");
  const { rows } = await db.query<{ count: number; txid: string; position: string; tombstones: string[] }>(
    `with batch as materialized (
       select txid, position
       from sequin_records r
       where ${f.sql} and (txid, position) > ($2::xid8, $3::bigint) and ${visible}
         and ($5::xid8 is null or (txid, position) <= ($5::xid8, $6::bigint))
       order by r.txid, r.position
       limit $4),
     last as (select txid, position from batch order by txid desc, position desc limit 1)
     select (select count(*)::int from batch) as count, last.txid::text as txid, last.position::text as position,
            (select coalesce(array_agg(sequin_id::text), '{}')
               from sequin_records
              where ${f.sql} and deleted
                and (txid, position) > ($2::xid8, $3::bigint)
                and (txid, position) <= (last.txid, last.position)) as tombstones
     from last`,
    [f.value, after.txid, after.position, limit, until?.txid ?? null, until?.position ?? null],
  );
  const row = rows[0];
  if (!row) return null;
  return { count: row.count, upto: { txid: row.txid, position: row.position }, tombstones: row.tombstones };
}

/** The next changes after `after` with their payloads, oldest first. */
export async function readChanges(
  db: Queryable,
  filter: StreamFilter,
  after: Cursor,
  limit: number,
): Promise<Change[]> {
  const f = filterSql(filter, "$1");
  const { rows } = await db.query<Change>(
    `select txid::text as txid, position::text as position, sequin_id, sync_id, collection_id, upstream_id,
            payload, ${isoTimestamp} as upstream_updated_at, deleted
     from sequin_records r
     where ${f.sql} and (txid, position) > ($2::xid8, $3::bigint) and ${visible}
     order by r.txid, r.position
     limit $4`,
    [f.value, after.txid, after.position, limit],
  );
  return rows;
}

const digits = /^\d{1,20}$/;
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A `COPY (select …) TO STDOUT` of the changes in (after, upto], in the column order a target's batch
 * apply reads. COPY takes no parameters, so values are checked and inlined as literals here.
 *
 * No `order by`: a range of the stream holds each record once (one row per record), so what the target
 * does with a batch does not depend on the order of its rows, and the store was planning the sort as a
 * parallel scan plus an on-disk sort of the payloads (~25% of the store's CPU per batch, and ~60 ms
 * before the first row of each batch of 20,000).
 *
 * Timestamps go out in the session's ISO output (`2026-11-25 10:00:00.123456+00`, any offset), which
 * every Postgres reads back exactly: formatting them with `to_char` cost 40% of the store's CPU for the
 * COPY. The caller's session must use `DateStyle` ISO (see `storeCopySession`).
 */
export function copyChangesOutSql(filter: StreamFilter, after: Cursor, upto: Cursor): string {
  return `copy (select sequin_id, sync_id, collection_id, upstream_id, payload, upstream_updated_at, deleted
    from sequin_records
    where ${rangeSql(filter, after, upto)}) to stdout`;
}

/**
 * The live records in (after, upto] as rows of the consumer table contract, for a COPY straight into a
 * table that has none of them yet; tombstones are left out (the caller deletes those by id).
 * `stampedAt` (a timestamptz literal, e.g. the target transaction's `now()`) fills `inserted_at` and
 * `updated_at`, as the upsert path would.
 */
export function copyLiveRowsOutSql(
  filter: StreamFilter,
  after: Cursor,
  upto: Cursor,
  stampedAt: string,
): string {
  if (!timestampLiteral.test(stampedAt)) throw new Error("stampedAt must be a timestamp in ISO format");
  const stamp = `'${stampedAt}'::timestamptz`;
  return `copy (select sequin_id, sync_id, collection_id, upstream_id, payload, upstream_updated_at, ${stamp}, ${stamp}
    from sequin_records
    where ${rangeSql(filter, after, upto)} and not deleted) to stdout`;
}

/**
 * A `COPY … TO STDOUT` of the ids a consumer's table may keep at the end of a rewrite, when its live
 * cursor is at `live`: records not deleted, and records whose newest change (a delete too) is after the
 * cursor, which the live changes will bring. Any other row of the table is no longer in the stream.
 */
export function copyKeptIdsOutSql(filter: StreamFilter, live: Cursor): string {
  return `copy (select sequin_id from sequin_records
    where ${filterLiteralSql(filter)} and (not deleted or (txid, position) > ${cursorLiteral(live)})) to stdout`;
}

/** How many changes of the filter are at or before `upto` (what a rewrite up to there walks), up to `cap`. */
export async function countChangesUpTo(
  db: Queryable,
  filter: StreamFilter,
  upto: Cursor,
  cap: number,
): Promise<number> {
  const f = filterSql(filter, "$1");
  const { rows } = await db.query<{ n: number }>(
    `select count(*)::int as n from (select 1 from sequin_records
       where ${f.sql} and (txid, position) <= ($2::xid8, $3::bigint) limit $4) capped`,
    [f.value, upto.txid, upto.position, cap],
  );
  return rows[0]!.n;
}

/** Whether the stream holds live records for the filter at or before `upto` (a table behind it has rows). */
export async function hasLiveRecordsUpTo(
  db: Queryable,
  filter: StreamFilter,
  upto: Cursor,
): Promise<boolean> {
  const f = filterSql(filter, "$1");
  const { rows } = await db.query<{ found: boolean }>(
    `select exists (select 1 from sequin_records
       where ${f.sql} and not deleted and (txid, position) <= ($2::xid8, $3::bigint)) as found`,
    [f.value, upto.txid, upto.position],
  );
  return rows[0]!.found;
}

/** Statements for a store session before it runs the COPYs above. */
export const storeCopySession = "set datestyle = 'ISO'";

const timestampLiteral = /^[0-9][0-9 :.T+-]*(Z| BC)?$/;

function rangeSql(filter: StreamFilter, after: Cursor, upto: Cursor): string {
  return `${filterLiteralSql(filter)} and (txid, position) > ${cursorLiteral(after)}
      and (txid, position) <= ${cursorLiteral(upto)}`;
}

/** The filter as a condition with its value inlined (for COPY, which takes no parameters). */
function filterLiteralSql(filter: StreamFilter): string {
  if ("provider" in filter) return `provider = '${filter.provider.replace(/'/g, "''")}'`;
  if (!uuid.test(filter.syncId)) throw new Error("sync id must be a UUID");
  return `sync_id = '${filter.syncId}'`;
}

function cursorLiteral(c: Cursor): string {
  if (!digits.test(c.txid) || !digits.test(c.position))
    throw new Error("cursor values must be decimal integers");
  return `('${c.txid}'::xid8, ${c.position})`;
}

/** The newest visible change for the filter: where a consumer's backfill ends. */
export async function readStreamHead(db: Queryable, filter: StreamFilter): Promise<Cursor> {
  const f = filterSql(filter, "$1");
  const { rows } = await db.query<Cursor>(
    `select txid::text as txid, position::text as position from sequin_records r
     where ${f.sql} and ${visible} order by r.txid desc, r.position desc limit 1`,
    [f.value],
  );
  return rows[0] ?? streamStart;
}

export interface Pending {
  /** changes after the cursor, counted up to `cap` */
  records: number;
  /** when the oldest of them entered the stream, or null when none is pending */
  oldestChangedAt: Date | null;
}

/** What a reader at `after` still has to consume. Counting stops at `cap` to stay cheap on big backlogs. */
export async function readPending(
  db: Queryable,
  filter: StreamFilter,
  after: Cursor,
  cap: number,
): Promise<Pending> {
  const f = filterSql(filter, "$1");
  const { rows } = await db.query<{ records: number; oldest: Date | null }>(
    `select
       (select count(*)::int from (select 1 from sequin_records
          where ${f.sql} and (txid, position) > ($2::xid8, $3::bigint) limit $4) capped) as records,
       (select changed_at from sequin_records
          where ${f.sql} and (txid, position) > ($2::xid8, $3::bigint)
          order by txid, position limit 1) as oldest`,
    [f.value, after.txid, after.position, cap],
  );
  return { records: rows[0]!.records, oldestChangedAt: rows[0]!.oldest };
}
