/**
 * The shapes of syncs and records at the door: one set of zod schemas used by the API (validation and the
 * OpenAPI document) and by in-process ingest. Limits are documented in docs/streams.md.
 */
import { z } from "zod";
import { jsonObjectSchema, payloadObjectSchema } from "../input-rules.js";

/** A serialized payload larger than this is refused. */
export const maxPayloadBytes = 1024 * 1024;
/** Records per ingest call. */
export const maxRecordsPerRequest = 10_000;

const identifier = (what: string) =>
  z
    .string()
    .min(1, `${what} must not be empty`)
    .max(255, `${what} must be at most 255 characters`)
    .refine((s) => !s.includes("\u0000"), `${what} must not contain NUL characters`);

/** ISO-8601 with a time zone; at most microsecond precision, as Postgres stores it. */
export const isoTimestampPattern =
  /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}(:?\d{2})?)$/i;

/** Date.parse rolls 2024-02-31 over to March; Postgres refuses it. Check the calendar ourselves. */
function isRealDateTime(s: string): boolean {
  const [year, month, day, hour, minute, second] = [0, 5, 8, 11, 14, 17].map((at, i) =>
    Number(s.slice(at, at + (i === 0 ? 4 : 2))),
  ) as [number, number, number, number, number, number];
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return (
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= daysInMonth &&
    hour <= 23 &&
    minute <= 59 &&
    second <= 59 &&
    !Number.isNaN(Date.parse(s))
  );
}

const timestamp = z
  .string()
  .regex(isoTimestampPattern, "must be an ISO-8601 timestamp with a time zone, e.g. 2024-05-01T12:00:00Z")
  .refine(isRealDateTime, "must be a real date and time");

export const incomingRecordSchema = z
  .strictObject({
    collection_id: identifier("collection_id"),
    upstream_id: identifier("upstream_id"),
    payload: payloadObjectSchema.optional(),
    upstream_updated_at: timestamp,
    deleted: z.boolean().optional(),
  })
  .superRefine((record, ctx) => {
    if (!record.deleted && record.payload === undefined) {
      ctx.addIssue({ code: "custom", path: ["payload"], message: "is required unless deleted is true" });
    }
  })
  .meta({ id: "IncomingRecord" });

export const ingestBodySchema = z.strictObject({
  records: z
    .array(incomingRecordSchema)
    .min(1, "must hold at least one record")
    .max(maxRecordsPerRequest, `must hold at most ${maxRecordsPerRequest} records per request`),
});

export type IncomingRecord = z.infer<typeof incomingRecordSchema>;

export const ingestResultSchema = z
  .object({
    accepted: z.number().int().describe("records that changed the stream"),
    stale: z
      .number()
      .int()
      .describe("records that changed nothing: older than the stored version, or identical to it"),
    sanitized: z
      .number()
      .int()
      .describe("records whose payload held characters jsonb cannot store, replaced by U+FFFD"),
  })
  .meta({ id: "IngestResult" });

export type IngestResult = z.infer<typeof ingestResultSchema>;

/** Providers whose API a sync can pull by itself (a sync's `source`); other providers push records. */
export const builtInProviders = ["github", "hubspot", "salesforce", "stripe"] as const;

export const newSyncSchema = z.strictObject({
  name: identifier("name"),
  provider: identifier("provider").regex(
    /^[a-z0-9][a-z0-9_.-]*$/,
    "must be lowercase letters, digits, _ . -",
  ),
  collections: z.array(identifier("collection")).max(1000).optional(),
  external_id: z.string().max(255).nullable().optional(),
  metadata: jsonObjectSchema.optional(),
});

export type NewSync = z.infer<typeof newSyncSchema>;

export const syncPatchSchema = z.strictObject({
  name: identifier("name").optional(),
  collections: z.array(identifier("collection")).max(1000).optional(),
  external_id: z.string().max(255).nullable().optional(),
  metadata: jsonObjectSchema.optional(),
});

export type SyncPatch = z.infer<typeof syncPatchSchema>;

/** A sync's own fields (the API adds its source: the route's schema, named "Sync" in the OpenAPI document). */
export const syncSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  provider: z.string(),
  collections: z.array(z.string()),
  external_id: z.string().nullable(),
  metadata: z.record(z.string(), z.unknown()),
  inserted_at: z.string(),
});

export type Sync = z.infer<typeof syncSchema>;

export const streamRecordSchema = z
  .object({
    sequin_id: z.uuid(),
    sync_id: z.uuid(),
    collection_id: z.string(),
    upstream_id: z.string(),
    payload: z.record(z.string(), z.unknown()).nullable(),
    upstream_updated_at: z.string(),
    deleted: z.boolean(),
  })
  .meta({ id: "Record" });

export type StreamRecord = z.infer<typeof streamRecordSchema>;

export const recordLookupQuerySchema = z.strictObject({
  collection_id: z.string().min(1).optional(),
  upstream_id: z.string().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
});
