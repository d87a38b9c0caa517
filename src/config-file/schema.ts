/**
 * The config file's shape: one strict object per entity, so an unknown key is an error, not ignored. Field
 * rules are the API's own schemas (names, providers, hosts, ports, table identifiers), so a file that
 * validates here is accepted by the server. Names are the keys plan and apply match on.
 */
import { z } from "zod";
import { newConsumerSchema, tableNameSchema } from "../consumer/index.js";
import { sourceInputSchema } from "../sources/index.js";
import { newSyncSchema } from "../stream/index.js";
import { connectionInputSchema, newTargetSchema, sshTunnelInputSchema } from "../targets/index.js";

/** A sync as the API creates it, with its source (credentials as `${VAR}` references, checked on reading). */
export const syncEntrySchema = z.strictObject({
  ...newSyncSchema.shape,
  source: sourceInputSchema.optional(),
});

export const targetEntrySchema = z.strictObject({
  name: newTargetSchema.shape.name,
  postgres: connectionInputSchema,
  /** null: no tunnel (removes one the server has); left out: whatever the server has. */
  ssh_tunnel: sshTunnelInputSchema.nullable().optional(),
});

export const consumerFilterEntrySchema = z.union(
  [
    z.strictObject({ provider: z.string().min(1).max(255) }),
    z.strictObject({ sync: z.string().min(1).max(255) }),
  ],
  { error: "must be { provider: NAME } (every sync of a provider) or { sync: SYNC_NAME } (one sync)" },
);

export const consumerEntrySchema = z.strictObject({
  name: newConsumerSchema.shape.name,
  /** A target's name in the file. */
  target: z.string().min(1).max(255),
  filter: consumerFilterEntrySchema,
  table: tableNameSchema,
  /** true: started (or resumed); false: paused (or left inactive); left out: whatever the server has. */
  active: z.boolean().optional(),
  lag_alert_seconds: newConsumerSchema.shape.lag_alert_seconds,
});

export const configFileSchema = z.strictObject({
  syncs: z.array(syncEntrySchema).nullable().optional(),
  targets: z.array(targetEntrySchema).nullable().optional(),
  consumers: z.array(consumerEntrySchema).nullable().optional(),
});

export type SyncEntry = z.infer<typeof syncEntrySchema>;
export type TargetEntry = z.infer<typeof targetEntrySchema>;
export type ConsumerEntry = z.infer<typeof consumerEntrySchema>;
export type ConsumerFilterEntry = z.infer<typeof consumerFilterEntrySchema>;

/** The variables a target's secrets come from (what plan shows instead of the secrets). */
export interface SecretRefs {
  password: string;
  private_key?: string;
  passphrase?: string;
}

/** The variable each field of a sync source's credentials is read from, e.g. `{ api_key: "STRIPE_API_KEY" }`. */
export type CredentialRefs = Record<string, string>;

export interface ConfigFile {
  syncs: SyncEntry[];
  targets: TargetEntry[];
  consumers: ConsumerEntry[];
  /** By target name. */
  secretRefs: Map<string, SecretRefs>;
  /** By sync name, for syncs with a source. */
  credentialRefs: Map<string, CredentialRefs>;
}
