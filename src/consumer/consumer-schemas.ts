/** Consumer shapes at the door and in answers: one set of zod schemas for validation, types and OpenAPI. */
import { z } from "zod";
import { fenceTableName, validateIdentifier } from "../targets/postgres/index.js";
import { consumerStates } from "./consumer-lifecycle.js";

const identifier = (field: string) =>
  z.string().superRefine((value, ctx) => {
    const problem = validateIdentifier(value, field);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  });

export const consumerFilterSchema = z
  .union([z.strictObject({ provider: z.string().min(1).max(255) }), z.strictObject({ sync_id: z.uuid() })])
  .meta({
    id: "ConsumerFilter",
    description: "every sync of a provider (including later ones), or one sync",
  });

export const tableNameSchema = z
  .strictObject({
    schema: identifier("table.schema"),
    name: identifier("table.name").refine((name) => name !== fenceTableName, {
      message: `${fenceTableName} is the name of Sequin's fence table in the consumer's schema: choose another`,
    }),
  })
  .meta({ id: "TableName" });

export const newConsumerSchema = z.strictObject({
  name: z.string().min(1).max(255),
  target_id: z.uuid(),
  filter: consumerFilterSchema,
  table: tableNameSchema,
  lag_alert_seconds: z.number().int().min(1).max(2_592_000).nullable().optional(),
});

export type NewConsumer = z.infer<typeof newConsumerSchema>;

export const consumerPatchSchema = newConsumerSchema.partial();
export type ConsumerPatch = z.infer<typeof consumerPatchSchema>;

const checkSchema = z.object({
  name: z.string(),
  status: z.enum(["healthy", "unhealthy"]),
  error: z.string().optional(),
});

export const healthSchema = z
  .object({
    status: z.enum(["healthy", "unhealthy"]),
    notes: z.array(z.string()),
    checks: z.array(checkSchema),
    time: z.string(),
  })
  .meta({ id: "Health" });

export const consumerWarningSchema = z
  .object({
    kind: z
      .enum(["no_matching_sync", "shared_table"])
      .describe(
        "no_matching_sync: the filter matches no sync (yet), so nothing is written; shared_table: another " +
          "consumer writes the same table of the same target",
      ),
    message: z.string(),
  })
  .meta({ id: "ConsumerWarning" });

export type ConsumerWarning = z.infer<typeof consumerWarningSchema>;

export const consumerSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    target_id: z.uuid(),
    filter: z.union([z.object({ provider: z.string() }), z.object({ sync_id: z.string() })]),
    table: z.object({ schema: z.string(), name: z.string() }),
    create_table_sql: z.string(),
    state: z.enum(["inactive", "backfilling", "live", "paused", "waiting_for_target", "failing"]),
    health: healthSchema,
    lag: z.object({ records: z.number().int(), seconds: z.number() }),
    stats: z.object({
      upserted: z.number().int(),
      deleted: z.number().int(),
      last_applied_at: z.string().nullable(),
    }),
    backfill: z
      .object({
        total: z.number().int(),
        done: z.number().int(),
        progress: z.number(),
        kind: z
          .enum(["first", "rewrite"])
          .describe(
            "the first backfill, or a rewrite of the table from the stream (asked for, or by itself)",
          ),
        reason: z.string().optional().describe("why the table is being rewritten"),
        started_at: z.string().optional(),
        finished_at: z.string().nullable().optional().describe("null while the rewrite runs"),
        deleted: z.number().int().optional().describe("rows no longer in the stream, deleted by the rewrite"),
      })
      .nullable()
      .describe(
        "while backfilling: records at start and applied so far; after a rewrite of the table was asked for (or started by itself), its progress",
      ),
    last_error: z
      .object({
        message: z.string(),
        sqlstate: z.string().optional(),
        record: z
          .object({ sequin_id: z.string(), collection_id: z.string(), upstream_id: z.string() })
          .optional(),
        at: z.string().describe("when the latest attempt failed"),
        attempts: z
          .number()
          .int()
          .optional()
          .describe(
            "failed attempts since the state began (1 for the first); retries never move state_changed_at",
          ),
      })
      .nullable(),
    lag_alert_seconds: z.number().int().nullable(),
    worker_id: z
      .string()
      .nullable()
      .optional()
      .describe("the worker process running the consumer now (GET /v1/workers); null while it runs nowhere"),
    warnings: z
      .array(consumerWarningSchema)
      .describe(
        "what may make the consumer do other than intended; each is a health note too, none makes it unhealthy",
      ),
    state_changed_at: z.string(),
    inserted_at: z.string(),
    updated_at: z.string(),
  })
  .meta({ id: "Consumer" });

export type ConsumerView = z.infer<typeof consumerSchema>;

export const tableFindingSchema = z
  .object({
    kind: z.string(),
    column: z.string().optional(),
    expected: z.string().optional(),
    found: z.string().optional(),
    fix_sql: z.string().optional().describe("the statement that fixes it, ending with a semicolon"),
    name: z.string().optional().describe("the constraint, index or trigger it is about"),
    message: z.string(),
  })
  .meta({ id: "TableFinding" });

export const verifyFailureSchema = z
  .object({
    message: z.string(),
    sqlstate: z.string().optional(),
    record: z
      .object({ sequin_id: z.string(), collection_id: z.string(), upstream_id: z.string() })
      .optional()
      .describe("the record the target refuses"),
    since: z.string().describe("when the consumer began failing or waiting (its state_changed_at)"),
    retries: z.number().int().describe("attempts since then that failed again"),
  })
  .meta({ id: "VerifyFailure" });

export const verifyResultSchema = z
  .object({
    ok: z
      .boolean()
      .describe("true when the table has no problem and the consumer is not failing; warnings do not count"),
    problems: z
      .array(tableFindingSchema)
      .describe(
        "what to fix; on a failing consumer, the constraint, index or trigger that refuses its write is one",
      ),
    warnings: z.array(tableFindingSchema),
    state: z.enum(consumerStates).describe("the consumer's state when verified"),
    summary: z
      .string()
      .describe(
        "one line worded for the consumer's state: ready to start, problems to fix, or why a running consumer fails and the fix",
      ),
    failure: verifyFailureSchema
      .optional()
      .describe("while the consumer is failing or waiting for its target: the current failure"),
  })
  .meta({ id: "VerifyResult" });

export type VerifyResult = z.infer<typeof verifyResultSchema>;
