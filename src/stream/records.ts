/** Looking up records in a sync's stream by collection and upstream id. */

import type { z } from "zod";
import type { Queryable } from "../db/queryable.js";
import { type CollectionCount, countRecordsByCollection, selectRecords } from "./record-queries.js";
import type { recordLookupQuerySchema, StreamRecord } from "./stream-schemas.js";
import { getSyncRow } from "./syncs.js";

export async function lookupRecords(
  db: Queryable,
  syncId: string,
  query: z.infer<typeof recordLookupQuerySchema>,
): Promise<StreamRecord[]> {
  await getSyncRow(db, syncId);
  return selectRecords(db, syncId, { ...query, limit: query.limit ?? 100 });
}

/** How many live records (and tombstones) each collection of a sync holds in the stream. */
export async function recordCounts(db: Queryable, syncId: string): Promise<Map<string, CollectionCount>> {
  await getSyncRow(db, syncId);
  return new Map((await countRecordsByCollection(db, syncId)).map((c) => [c.collection_id, c]));
}
