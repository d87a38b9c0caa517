/** Postgres target shapes at the door and in answers. Passwords and keys go in, never out. */
import { z } from "zod";

const host = z
  .string()
  .min(1, "must not be empty")
  .max(253)
  .regex(/^[A-Za-z0-9._:%-]+$/, "must be a host name or an IP address");

export const sslModeSchema = z.enum(["disable", "prefer", "require", "verify-full"]);

export const connectionInputSchema = z.strictObject({
  host,
  port: z.number().int().min(1).max(65535),
  database: z.string().min(1).max(63),
  username: z.string().min(1).max(63),
  password: z.string().max(1024),
  ssl: sslModeSchema.optional(),
});

export const newTargetSchema = z.strictObject({
  name: z.string().min(1).max(255),
  connection: connectionInputSchema,
});

export type NewTarget = z.infer<typeof newTargetSchema>;

export const targetPatchSchema = z.strictObject({
  name: z.string().min(1).max(255).optional(),
  connection: connectionInputSchema.partial().optional(),
});

export type TargetPatch = z.infer<typeof targetPatchSchema>;

export const targetSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    connection: z.object({
      host: z.string(),
      port: z.number().int(),
      database: z.string(),
      username: z.string(),
      ssl: sslModeSchema,
    }),
    health: z.object({
      status: z.enum(["healthy", "unhealthy"]),
      notes: z.array(z.string()),
      checks: z.array(
        z.object({
          name: z.string(),
          status: z.enum(["healthy", "unhealthy"]),
          error: z.string().optional(),
        }),
      ),
      time: z.string(),
    }),
    inserted_at: z.string(),
    updated_at: z.string(),
  })
  .meta({ id: "PostgresTarget" });

export type TargetView = z.infer<typeof targetSchema>;

export const connectionTestSchema = z
  .object({ ok: z.boolean(), error: z.string().optional(), latency_ms: z.number() })
  .meta({ id: "ConnectionTest" });
