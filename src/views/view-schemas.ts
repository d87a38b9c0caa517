/** Typed views at the door and in answers: one set of zod schemas for validation, types and OpenAPI. */
import { z } from "zod";
import { validateIdentifier } from "../targets/postgres/index.js";
import { columnTypes } from "./view-inference.js";
import { defaultSampleRows, maxSampleRows } from "./view-limits.js";

export const viewRequestSchema = z.strictObject({
  collection_id: z
    .string()
    .min(1, "collection_id must not be empty")
    .max(255, "collection_id must be at most 255 characters")
    .describe("the collection whose rows the view shows"),
  name: z
    .string()
    .superRefine((value, ctx) => {
      const problem = validateIdentifier(value, "name");
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    })
    .optional()
    .describe("the view's name in the consumer's schema; default <table>_<collection>"),
  sample: z
    .number()
    .int()
    .min(1)
    .max(maxSampleRows)
    .optional()
    .describe(`rows the types are inferred from, the newest first; default ${defaultSampleRows}`),
});

export type ViewRequest = z.infer<typeof viewRequestSchema>;

export const viewQuerySchema = z.strictObject({
  apply: z
    .enum(["true", "false"])
    .optional()
    .describe("true: also run the statement in the target, as the target's user"),
});

export const viewColumnSchema = z
  .object({
    name: z.string(),
    type: z.enum(columnTypes),
    source_path: z.string().describe("the payload key, dotted for a nested one: properties.email"),
    nullable: z.boolean().describe("some sampled row has no value there"),
    sample_errors: z
      .number()
      .int()
      .describe(
        "sampled values that did not fit the type most values had; the column is text because of them",
      ),
  })
  .meta({ id: "ViewColumn" });

export const generatedViewSchema = z
  .object({
    sql: z.string().describe("one create or replace view statement, ending with a semicolon"),
    columns: z
      .array(viewColumnSchema)
      .describe("the payload's columns, after sequin_id, sync_id, upstream_id and upstream_updated_at"),
    view: z.object({ schema: z.string(), name: z.string() }),
    sampled_rows: z.number().int(),
    applied: z.boolean().describe("whether the statement was run in the target"),
  })
  .meta({ id: "GeneratedView" });

export type GeneratedView = z.infer<typeof generatedViewSchema>;
