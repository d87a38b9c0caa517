/** Postgres target shapes at the door and in answers. Passwords and keys go in, never out. */
import { z } from "zod";
import { sshFingerprintPattern } from "./ssh-key-pair.js";

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

const hostKeyFingerprint = z
  .string()
  .regex(
    sshFingerprintPattern,
    "must be SHA256: followed by 43 base64 characters, as `ssh-keygen -lf` prints the bastion's host key",
  );

const sshTunnelFields = {
  /** The bastion, as this service reaches it. */
  host,
  port: z.number().int().min(1).max(65535),
  username: z
    .string()
    .min(1, "must not be empty")
    .max(255)
    .regex(/^[^\s@:]+$/, "must be a user name on the bastion"),
  private_key: z.string().min(1, "must not be empty").max(32_768).optional(),
  key_id: z.uuid("must be the id of a key made by POST /v1/targets/postgres/ssh-keys").optional(),
  passphrase: z.string().max(1024).optional(),
};

const oneKey = (
  t: { private_key?: string | undefined; key_id?: string | undefined },
  ctx: z.RefinementCtx,
) => {
  if (t.private_key !== undefined && t.key_id !== undefined) {
    ctx.addIssue({
      code: "custom",
      path: ["key_id"],
      message: "give either private_key or key_id, not both",
    });
  }
};

/** An SSH tunnel through a bastion host: every connection to the target goes through it. */
export const sshTunnelInputSchema = z
  .strictObject({ ...sshTunnelFields, host_key_fingerprint: hostKeyFingerprint.optional() })
  .superRefine((t, ctx) => {
    oneKey(t, ctx);
    if (t.private_key === undefined && t.key_id === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["private_key"],
        message: "required: a private key, or key_id of a key made by POST /v1/targets/postgres/ssh-keys",
      });
    }
  });

export type SshTunnelInput = z.infer<typeof sshTunnelInputSchema>;

/**
 * Fields given replace the stored ones; the key stays unless private_key or key_id is given;
 * `host_key_fingerprint: null` forgets the pinned key, so the next connection test pins the one it sees.
 */
export const sshTunnelPatchSchema = z
  .strictObject({
    host: sshTunnelFields.host.optional(),
    port: sshTunnelFields.port.optional(),
    username: sshTunnelFields.username.optional(),
    private_key: sshTunnelFields.private_key,
    key_id: sshTunnelFields.key_id,
    passphrase: sshTunnelFields.passphrase,
    host_key_fingerprint: hostKeyFingerprint.nullable().optional(),
  })
  .superRefine(oneKey);

export type SshTunnelPatch = z.infer<typeof sshTunnelPatchSchema>;

export const newTargetSchema = z.strictObject({
  name: z.string().min(1).max(255),
  connection: connectionInputSchema,
  ssh_tunnel: sshTunnelInputSchema.optional(),
});

export type NewTarget = z.infer<typeof newTargetSchema>;

export const targetPatchSchema = z.strictObject({
  name: z.string().min(1).max(255).optional(),
  connection: connectionInputSchema.partial().optional(),
  /** null removes the tunnel. */
  ssh_tunnel: sshTunnelPatchSchema.nullable().optional(),
});

export type TargetPatch = z.infer<typeof targetPatchSchema>;

export const sshTunnelSchema = z
  .object({
    host: z.string(),
    port: z.number().int(),
    username: z.string(),
    /** The bastion's host key that every connection checks. */
    host_key_fingerprint: z.string(),
    /** `pinned`: given by the user; `first_use`: seen at the first connection test and pinned since. */
    host_key_source: z.enum(["pinned", "first_use"]),
    /** The key made by the service, when the tunnel uses one. */
    key_id: z.uuid().nullable(),
    /** The line to install in the user's authorized_keys on the bastion. */
    public_key: z.string(),
  })
  .meta({ id: "SshTunnel" });

export type SshTunnelView = z.infer<typeof sshTunnelSchema>;

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
    ssh_tunnel: sshTunnelSchema.nullable(),
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

export const sshKeySchema = z
  .object({
    id: z.uuid(),
    /** One authorized_keys line: install it on the bastion for the tunnel's user. */
    public_key: z.string(),
    inserted_at: z.string(),
  })
  .meta({ id: "SshKey" });

export type SshKeyView = z.infer<typeof sshKeySchema>;
