/**
 * The write path's statements. A batch travels as one COPY stream into a session temp staging table,
 * then two set-based statements move it into the target; no statement's text depends on batch size.
 * In a batch, only the newest version of each record counts (ties: the later row in the stream).
 */
import type pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import { qualifiedName, quoteIdent, type TableName } from "./identifiers.js";

/** Session-local, emptied at each commit; one per connection, shared by every target it writes. */
const staging = `pg_temp.${quoteIdent("sequin_staging")}`;

const stagedColumns = "sequin_id, sync_id, collection_id, upstream_id, payload, upstream_updated_at, deleted";

/**
 * Which staged row counts for each record. Only the keys are sorted: sorting whole rows spilled the
 * payloads of a 10,000-row batch to disk (an external merge sort, twice per batch) and cost ~10% of the
 * target's CPU per record (docs/benchmarks.md, "Consumer").
 */
const newestKeys = `select distinct on (sequin_id) position, sequin_id, upstream_updated_at, deleted
    from ${staging}
   order by sequin_id, upstream_updated_at desc, position desc`;

const newestPerRecord = `select ${stagedColumns}
    from ${staging}
   where position in (select position from (${newestKeys}) as k)`;

export async function createStagingTable(client: pg.ClientBase): Promise<void> {
  await client.query(
    `create temp table if not exists ${quoteIdent("sequin_staging")} (
       position            bigint generated always as identity,
       sequin_id           uuid        not null,
       sync_id             uuid,
       collection_id       text,
       upstream_id         text,
       payload             jsonb,
       upstream_updated_at timestamptz not null,
       deleted             boolean     not null
     ) on commit delete rows`,
  );
}

/** A writable COPY into the staging table; submit it with `client.query(…)`. */
export function copyIntoStaging() {
  return copyFrom(`copy ${staging} (${stagedColumns}) from stdin`);
}

/** Deletes rows whose newest staged version is a delete at least as new as the row. */
export async function deleteStaged(client: pg.ClientBase, table: TableName): Promise<number> {
  const result = await client.query(
    `delete from ${qualifiedName(table)} as t
      using (${newestKeys}) as s
      where s.deleted and t.sequin_id = s.sequin_id and t.upstream_updated_at <= s.upstream_updated_at`,
  );
  return result.rowCount ?? 0;
}

/**
 * Inserts new records and updates rows to a newer or equally new version that differs; an older version
 * never overwrites a newer one, an identical one is not rewritten, `inserted_at` is kept.
 */
export async function upsertStaged(client: pg.ClientBase, table: TableName): Promise<number> {
  const result = await client.query(
    `insert into ${qualifiedName(table)} as t
            (sequin_id, sync_id, collection_id, upstream_id, payload, upstream_updated_at, inserted_at, updated_at)
     select sequin_id, sync_id, collection_id, upstream_id, payload, upstream_updated_at, now(), now()
       from (${newestPerRecord}) as s
      where not s.deleted
     on conflict (sequin_id) do update
        set sync_id = excluded.sync_id,
            collection_id = excluded.collection_id,
            upstream_id = excluded.upstream_id,
            payload = excluded.payload,
            upstream_updated_at = excluded.upstream_updated_at,
            updated_at = now()
      where t.upstream_updated_at <= excluded.upstream_updated_at
        and (t.payload is distinct from excluded.payload
             or t.upstream_updated_at <> excluded.upstream_updated_at
             or t.sync_id <> excluded.sync_id
             or t.collection_id <> excluded.collection_id
             or t.upstream_id <> excluded.upstream_id)`,
  );
  return result.rowCount ?? 0;
}

/** The open transaction's `now()` in UTC, as ISO text whatever the session's DateStyle. */
export async function transactionTimestamp(client: pg.ClientBase): Promise<string> {
  const { rows } = await client.query<{ now: string }>(
    `select to_char(now() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as now`,
  );
  return rows[0]!.now;
}

/** A writable COPY straight into the consumer table (all eight contract columns). */
export function copyIntoTable(table: TableName) {
  return copyFrom(
    `copy ${qualifiedName(table)} (sequin_id, sync_id, collection_id, upstream_id, payload, upstream_updated_at, inserted_at, updated_at) from stdin`,
  );
}

/** Deletes rows by id (one array parameter). */
export async function deleteByIds(
  client: pg.ClientBase,
  table: TableName,
  ids: readonly string[],
): Promise<number> {
  if (ids.length === 0) return 0;
  const result = await client.query(`delete from ${qualifiedName(table)} where sequin_id = any($1::uuid[])`, [
    ids,
  ]);
  return result.rowCount ?? 0;
}
