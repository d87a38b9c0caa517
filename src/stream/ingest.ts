/**
 * Ingest: takes versions of records into a sync's stream. All-or-nothing per call: every record is checked
 * before anything is written, and one bad record refuses the call naming its index. Versions older than the
 * stored one (or identical to it) are counted as `stale` and change nothing.
 */
import type pg from "pg";
import { withTransaction } from "../db/transaction.js";
import { notFound, type ValidationErrors, validationError } from "../errors.js";
import { parseOrThrow } from "../validation.js";
import { copyField } from "./copy-text.js";
import { toJsonbText } from "./jsonb-safe.js";
import { copyIntoIngestStaging, upsertStagedRecords } from "./record-queries.js";
import { sequinId } from "./sequin-id.js";
import { notifyStreamChanged } from "./stream-notifier.js";
import {
  type IncomingRecord,
  type IngestResult,
  ingestBodySchema,
  maxPayloadBytes,
} from "./stream-schemas.js";
import { addCollections, selectSync } from "./sync-queries.js";

interface PreparedRecord {
  index: number;
  sequinId: string;
  micros: number;
  row: string;
}

/** Microseconds since the epoch, for ordering versions exactly as Postgres will. */
export function timestampMicros(iso: string): number {
  const fraction = /\.(\d+)/.exec(iso)?.[1] ?? "";
  return Date.parse(iso) * 1000 + Number(fraction.padEnd(6, "0").slice(3, 6));
}

function describe(record: IncomingRecord, index: number): string {
  return `record ${index} (collection_id ${JSON.stringify(record.collection_id)}, upstream_id ${JSON.stringify(record.upstream_id)})`;
}

export async function ingest(
  pool: pg.Pool,
  syncId: string,
  records: IncomingRecord[],
  options: { validated?: boolean } = {},
): Promise<IngestResult> {
  const { result, provider } = await withTransaction(pool, (client) =>
    ingestWithin(client, syncId, records, options),
  );
  if (result.accepted > 0) notifyStreamChanged(pool, provider);
  return result;
}

/**
 * Ingest inside the caller's transaction, so what the caller writes with the records (a source's cursor)
 * commits with them or not at all. The caller wakes readers after its commit (`notifyStreamChanged` with
 * the provider returned).
 */
export async function ingestWithin(
  client: pg.PoolClient,
  syncId: string,
  records: IncomingRecord[],
  options: {
    validated?: boolean;
    /** A newer version equal to the stored one is stale (a re-read of an unchanged object). */
    sameIsStale?: boolean;
  } = {},
): Promise<{ result: IngestResult; provider: string }> {
  if (!options.validated) parseOrThrow(ingestBodySchema, { records });
  const sync = await selectSync(client, syncId);
  if (!sync) throw notFound("sync", syncId);

  const errors: ValidationErrors = {};
  let firstError = "";
  const fail = (index: number, field: string, message: string) => {
    const key = `records[${index}].${field}`;
    errors[key] = [...(errors[key] ?? []), message];
    firstError ||= `${describe(records[index]!, index)}: ${field} ${message}`;
  };

  // The newest version of each key in this call; older ones in the same call are stale.
  const newest = new Map<string, PreparedRecord>();
  const newCollections = new Set<string>();
  let sanitized = 0;
  records.forEach((record, index) => {
    if (sync.removed_collections.includes(record.collection_id)) {
      fail(
        index,
        "collection_id",
        `names a collection removed from this sync; add it back to the sync's collections to ingest into it`,
      );
      return;
    }
    let payload: string | null = null;
    if (!record.deleted) {
      const safe = toJsonbText(record.payload!);
      if (safe.json.length * 3 > maxPayloadBytes) {
        const bytes = Buffer.byteLength(safe.json);
        if (bytes > maxPayloadBytes) {
          fail(index, "payload", `is ${bytes} bytes as JSON, over the limit of ${maxPayloadBytes} bytes`);
          return;
        }
      }
      if (safe.sanitized) sanitized++;
      payload = safe.json;
    }
    if (!sync.collections.includes(record.collection_id)) newCollections.add(record.collection_id);
    const id = sequinId(syncId, record.collection_id, record.upstream_id);
    const micros = timestampMicros(record.upstream_updated_at);
    const previous = newest.get(id);
    if (previous && previous.micros > micros) return;
    const row = [
      id,
      copyField(record.collection_id),
      copyField(record.upstream_id),
      copyField(payload),
      record.upstream_updated_at,
      record.deleted ? "t" : "f",
    ].join("\t");
    newest.set(id, { index, sequinId: id, micros, row });
  });
  if (firstError) throw validationError(errors, firstError);

  let changed: number;
  try {
    await copyIntoIngestStaging(client, [...newest.values()].map((r) => `${r.row}\n`).join(""));
    changed = await upsertStagedRecords(client, syncId, sync.provider, {
      sameIsStale: options.sameIsStale === true,
    });
    if (newCollections.size > 0) await addCollections(client, syncId, [...newCollections]);
  } catch (error) {
    if ((error as { code?: string }).code === "23503") throw notFound("sync", syncId);
    throw error;
  }
  return {
    result: { accepted: changed, stale: records.length - changed, sanitized },
    provider: sync.provider,
  };
}
