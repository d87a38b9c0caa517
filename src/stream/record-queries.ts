/** SQL for the records of the stream. One function per statement; each takes its client explicitly. */
import { pipeline } from "node:stream/promises";
import type pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import type { Queryable } from "../db/queryable.js";
import type { StreamRecord } from "./stream-schemas.js";

const stagedClients = new WeakSet<object>();

/** A per-connection temp table that one ingest fills by COPY; emptied at each commit. */
async function ensureIngestStaging(client: pg.PoolClient): Promise<void> {
  if (stagedClients.has(client)) return;
  await client.query(
    `create temp table if not exists sequin_ingest_staging (
       sequin_id uuid not null,
       collection_id text not null,
       upstream_id text not null,
       payload jsonb,
       upstream_updated_at timestamptz not null,
       deleted boolean not null
     ) on commit delete rows`,
  );
  stagedClients.add(client);
}

/** COPYs staged rows (COPY text, see copy-text.ts) into the staging table; call inside a transaction. */
export async function copyIntoIngestStaging(client: pg.PoolClient, rows: string): Promise<void> {
  await ensureIngestStaging(client);
  const stream = client.query(
    copyFrom(
      "copy sequin_ingest_staging (sequin_id, collection_id, upstream_id, payload, upstream_updated_at, deleted) from stdin",
    ),
  );
  await pipeline(async function* () {
    yield rows;
  }, stream);
}

/**
 * Moves staged versions into the stream. A version replaces the stored one when it is newer, or equally
 * new but different (the later arrival wins a tie); each replacement takes a new (txid, position).
 * Returns how many records changed.
 */
export async function upsertStagedRecords(
  client: pg.PoolClient,
  syncId: string,
  provider: string,
  options: { sameIsStale?: boolean } = {},
): Promise<number> {
  // A pulled sync stamps what it reads with the time it read it: a re-read of an object that did not change
  // (a sweep, a re-backfill) is newer but the same, and must not make every consumer write it again.
  const sameIsStale = options.sameIsStale
    ? "and (excluded.deleted <> r.deleted or excluded.payload is distinct from r.payload)"
    : "";
  const result = await client.query(
    `insert into sequin_records as r
       (sequin_id, sync_id, provider, collection_id, upstream_id, payload, upstream_updated_at, deleted)
     select sequin_id, $1, $2, collection_id, upstream_id, payload, upstream_updated_at, deleted
     from sequin_ingest_staging
     -- rows are locked in key order, so concurrent ingests touching the same keys cannot deadlock
     order by sequin_id
     -- the key leads with the sync, so a call touches only its sync's part of the index (migration 012)
     on conflict (sync_id, sequin_id) do update set
       payload = excluded.payload,
       upstream_updated_at = excluded.upstream_updated_at,
       deleted = excluded.deleted,
       txid = excluded.txid,
       position = excluded.position,
       changed_at = excluded.changed_at
     where (excluded.upstream_updated_at > r.upstream_updated_at ${sameIsStale})
        or (excluded.upstream_updated_at = r.upstream_updated_at
            and (excluded.deleted <> r.deleted or excluded.payload is distinct from r.payload))`,
    [syncId, provider],
  );
  return result.rowCount ?? 0;
}

const recordColumns = `sequin_id, sync_id, collection_id, upstream_id, payload,
  to_char(upstream_updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as upstream_updated_at, deleted`;

export async function selectRecords(
  db: Queryable,
  syncId: string,
  query: { collection_id?: string | undefined; upstream_id?: string | undefined; limit: number },
): Promise<StreamRecord[]> {
  const { rows } = await db.query<StreamRecord>(
    `select ${recordColumns} from sequin_records
     where sync_id = $1 and ($2::text is null or collection_id = $2) and ($3::text is null or upstream_id = $3)
     order by collection_id, upstream_id
     limit $4`,
    [syncId, query.collection_id ?? null, query.upstream_id ?? null, query.limit],
  );
  return rows;
}

export interface CollectionCount {
  collection_id: string;
  live: number;
  deleted: number;
}

/** Live records and tombstones per collection of a sync. */
export async function countRecordsByCollection(db: Queryable, syncId: string): Promise<CollectionCount[]> {
  const { rows } = await db.query<CollectionCount>(
    `select collection_id, count(*) filter (where not deleted)::int as live, count(*) filter (where deleted)::int as deleted
     from sequin_records where sync_id = $1 group by collection_id order by collection_id`,
    [syncId],
  );
  return rows;
}
