/**
 * Syncs: one account of one API provider, with its collections. Removing a sync or a collection stops
 * forwarding its records (they leave the stream) but never deletes rows in any target.
 */
import { randomUUID } from "node:crypto";
import type pg from "pg";
import type { Queryable } from "../db/queryable.js";
import { withTransaction } from "../db/transaction.js";
import { duplicateNameOr, notFound } from "../errors.js";
import type { NewSync, Sync, SyncPatch } from "./stream-schemas.js";
import {
  deleteCollectionRecords,
  deleteSyncRow,
  insertSync,
  type SyncRow,
  selectSync,
  selectSyncs,
  updateSyncRow,
} from "./sync-queries.js";

function toSync(row: SyncRow): Sync {
  const { removed_collections: _removed, ...sync } = row;
  return sync;
}

export async function createSync(db: Queryable, input: NewSync): Promise<Sync> {
  try {
    const row = await insertSync(db, {
      id: randomUUID(),
      name: input.name,
      provider: input.provider,
      collections: [...new Set(input.collections ?? [])],
      external_id: input.external_id ?? null,
      metadata: input.metadata ?? {},
    });
    return toSync(row);
  } catch (error) {
    throw duplicateNameOr(error, "sync", input.name);
  }
}

export async function listSyncs(db: Queryable): Promise<Sync[]> {
  return (await selectSyncs(db)).map(toSync);
}

export async function getSyncRow(db: Queryable, id: string): Promise<SyncRow> {
  const row = await selectSync(db, id);
  if (!row) throw notFound("sync", id);
  return row;
}

export async function getSync(db: Queryable, id: string): Promise<Sync> {
  return toSync(await getSyncRow(db, id));
}

/**
 * Updates name, external id, metadata or the collection list. Collections left out of a new list are
 * removed (as by removeCollection); collections added back are forwarded again from then on.
 */
export async function updateSync(pool: pg.Pool, id: string, patch: SyncPatch): Promise<Sync> {
  return withTransaction(pool, async (client) => {
    const current = await getSyncRow(client, id);
    const collections = patch.collections ? [...new Set(patch.collections)] : current.collections;
    const dropped = current.collections.filter((c) => !collections.includes(c));
    const removed = [...new Set([...current.removed_collections, ...dropped])].filter(
      (c) => !collections.includes(c),
    );
    try {
      const row = await updateSyncRow(client, id, {
        name: patch.name ?? current.name,
        collections,
        removed_collections: removed,
        external_id: patch.external_id === undefined ? current.external_id : patch.external_id,
        metadata: patch.metadata ?? current.metadata,
      });
      for (const collection of dropped) await deleteCollectionRecords(client, id, collection);
      return toSync(row!);
    } catch (error) {
      throw duplicateNameOr(error, "sync", patch.name ?? current.name);
    }
  });
}

export async function deleteSync(db: Queryable, id: string): Promise<void> {
  if (!(await deleteSyncRow(db, id))) throw notFound("sync", id);
}

/** Stops forwarding one collection; its rows in targets stay. Ingest into it is refused until re-added. */
export async function removeCollection(pool: pg.Pool, syncId: string, collectionId: string): Promise<void> {
  await withTransaction(pool, async (client) => {
    const current = await getSyncRow(client, syncId);
    const known =
      current.collections.includes(collectionId) || current.removed_collections.includes(collectionId);
    if (!known) throw notFound(`collection ${JSON.stringify(collectionId)} of sync`, syncId);
    await updateSyncRow(client, syncId, {
      ...current,
      collections: current.collections.filter((c) => c !== collectionId),
      removed_collections: [...new Set([...current.removed_collections, collectionId])],
    });
    await deleteCollectionRecords(client, syncId, collectionId);
  });
}
