/**
 * The shapes of a sync's source at the door (zod: validation, types and the OpenAPI document), and of the
 * `source` a sync shows. Credentials are accepted, never shown.
 */
import { z } from "zod";
import { jsonObjectSchema } from "../input-rules.js";

export const sourceInputSchema = z
  .strictObject({
    credentials: jsonObjectSchema.describe(
      "the provider's credential, e.g. stripe {api_key, stripe_account?}; encrypted at rest, never shown",
    ),
    settings: jsonObjectSchema.optional(),
    base_url: z
      .url({ protocol: /^https?$/, error: "must be an http(s) URL, e.g. https://api.stripe.com" })
      .max(2048)
      .optional()
      .describe("where the provider's API is (default: its public address)"),
    max_requests_per_second: z
      .number()
      .positive("must be more than 0")
      .max(1000, "must be at most 1000")
      .optional()
      .describe("this sync's share of the provider's rate limit; never exceeded"),
    poll_interval_seconds: z
      .number()
      .min(0.2, "must be at least 0.2")
      .max(3600, "must be at most 3600")
      .optional()
      .describe("how often changes are polled once the backfill is done"),
  })
  .meta({ id: "SourceInput" });

export type SourceInput = z.infer<typeof sourceInputSchema>;

/** A change to a sync's source: any field of it; a new credential (or address) is tried before it is saved. */
export const sourcePatchSchema = sourceInputSchema.partial().meta({ id: "SourcePatch" });

export type SourcePatch = z.infer<typeof sourcePatchSchema>;

const sourceErrorSchema = z.object({
  kind: z.string().describe("refused | unavailable | invalid_answer | invalid_record"),
  message: z.string(),
  at: z.string(),
  attempts: z.number().int().optional(),
});

export const sourceViewSchema = z
  .object({
    provider: z.string(),
    base_url: z.string(),
    max_requests_per_second: z.number(),
    poll_interval_seconds: z.number(),
    settings: z
      .record(z.string(), z.unknown())
      .describe("the provider's settings as given, e.g. github {repositories}; never a secret"),
    state: z.enum(["backfilling", "live", "paused", "failing"]),
    collections: z.array(
      z.object({
        collection_id: z.string(),
        state: z.enum(["backfilling", "live"]),
        records: z.number().int().describe("live records of the collection in the stream"),
        backfill: z.object({ fetched: z.number().int(), done: z.boolean() }),
        last_polled_at: z.string().nullable(),
      }),
    ),
    rebackfill: z.string().nullable().describe("why everything is being read again, until it is done"),
    last_error: sourceErrorSchema.nullable(),
    failing_since: z.string().nullable(),
    requests: z.number().int(),
    throttled: z.number().int(),
    worker_id: z.string().nullable(),
    health: z
      .object({
        status: z.enum(["healthy", "unhealthy"]),
        notes: z.array(z.string()),
        checks: z.array(
          z.object({
            name: z.string().describe("credential | provider | records | behind"),
            status: z.enum(["healthy", "unhealthy"]),
            error: z.string().optional(),
          }),
        ),
        time: z.string(),
      })
      .describe("the sync's health in the vocabulary consumers and targets use"),
  })
  .meta({ id: "SyncSource" });

export type SourceView = z.infer<typeof sourceViewSchema>;
