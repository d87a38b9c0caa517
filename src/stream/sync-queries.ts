/** SQL for syncs. One function per statement; each takes its client explicitly. */
import type { Queryable } from "../db/queryable.js";
import type { Sync } from "./stream-schemas.js";

export interface SyncRow extends Sync {
  removed_collections: string[];
}

const syncColumns = `id, name, provider, collections, removed_collections, external_id, metadata,
  to_char(inserted_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as inserted_at`;

export async function insertSync(
  db: Queryable,
  sync: {
    id: string;
    name: string;
    provider: string;
    collections: string[];
    external_id: string | null;
    metadata: object;
  },
): Promise<SyncRow> {
  const { rows } = await db.query<SyncRow>(
    `insert into sequin_syncs (id, name, provider, collections, external_id, metadata)
     values ($1, $2, $3, $4, $5, $6) returning ${syncColumns}`,
    [sync.id, sync.name, sync.provider, sync.collections, sync.external_id, sync.metadata],
  );
  return rows[0]!;
}

export async function selectSyncs(db: Queryable): Promise<SyncRow[]> {
  const { rows } = await db.query<SyncRow>(
    `select ${syncColumns} from sequin_syncs order by inserted_at, id`,
  );
  return rows;
}

export async function selectSync(db: Queryable, id: string): Promise<SyncRow | undefined> {
  const { rows } = await db.query<SyncRow>(`select ${syncColumns} from sequin_syncs where id = $1`, [id]);
  return rows[0];
}

export async function updateSyncRow(
  db: Queryable,
  id: string,
  sync: {
    name: string;
    collections: string[];
    removed_collections: string[];
    external_id: string | null;
    metadata: object;
  },
): Promise<SyncRow | undefined> {
  const { rows } = await db.query<SyncRow>(
    `update sequin_syncs set name = $2, collections = $3, removed_collections = $4, external_id = $5, metadata = $6
     where id = $1 returning ${syncColumns}`,
    [id, sync.name, sync.collections, sync.removed_collections, sync.external_id, sync.metadata],
  );
  return rows[0];
}

/** Adds collections first seen in an ingest, keeping the list's order and skipping ones already there. */
export async function addCollections(db: Queryable, id: string, collections: string[]): Promise<void> {
  await db.query(
    `update sequin_syncs
     set collections = collections || array(select c from unnest($2::text[]) c where c <> all(collections))
     where id = $1`,
    [id, collections],
  );
}

export async function deleteSyncRow(db: Queryable, id: string): Promise<boolean> {
  const result = await db.query("delete from sequin_syncs where id = $1", [id]);
  return result.rowCount === 1;
}

/** Drops a removed collection's records from the stream so they are never forwarded again. */
export async function deleteCollectionRecords(
  db: Queryable,
  syncId: string,
  collectionId: string,
): Promise<void> {
  await db.query("delete from sequin_records where sync_id = $1 and collection_id = $2", [
    syncId,
    collectionId,
  ]);
}
