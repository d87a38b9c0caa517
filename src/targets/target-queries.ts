/** SQL for registered Postgres targets. */
import type { Queryable } from "../db/queryable.js";

export interface TargetRow {
  id: string;
  name: string;
  host: string;
  port: number;
  database: string;
  username: string;
  ssl: "disable" | "prefer" | "require" | "verify-full";
  password_encrypted: Buffer;
  /** The bastion, without secrets; null when the target is reached directly. */
  ssh_tunnel: StoredSshTunnel | null;
  /** The tunnel's private key and passphrase (JSON), vault-encrypted; null without a tunnel or with key_id. */
  ssh_secret_encrypted: Buffer | null;
  inserted_at: Date;
  updated_at: Date;
}

/** The `ssh_tunnel` column. */
export interface StoredSshTunnel {
  host: string;
  port: number;
  username: string;
  host_key_fingerprint: string;
  host_key_source: "pinned" | "first_use";
  /** A key made by the service (sequin_ssh_keys), instead of one in ssh_secret_encrypted. */
  key_id: string | null;
  public_key: string;
}

const columns =
  "id, name, host, port, database, username, ssl, password_encrypted, ssh_tunnel, ssh_secret_encrypted, inserted_at, updated_at";

export async function insertTarget(
  db: Queryable,
  t: Omit<TargetRow, "inserted_at" | "updated_at">,
): Promise<TargetRow> {
  const { rows } = await db.query<TargetRow>(
    `insert into sequin_targets
       (id, name, host, port, database, username, ssl, password_encrypted, ssh_tunnel, ssh_secret_encrypted)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) returning ${columns}`,
    [
      t.id,
      t.name,
      t.host,
      t.port,
      t.database,
      t.username,
      t.ssl,
      t.password_encrypted,
      t.ssh_tunnel,
      t.ssh_secret_encrypted,
    ],
  );
  return rows[0]!;
}

export async function selectTargets(db: Queryable): Promise<TargetRow[]> {
  return (await db.query<TargetRow>(`select ${columns} from sequin_targets order by inserted_at, id`)).rows;
}

export async function selectTarget(db: Queryable, id: string): Promise<TargetRow | undefined> {
  return (await db.query<TargetRow>(`select ${columns} from sequin_targets where id = $1`, [id])).rows[0];
}

export async function updateTargetRow(
  db: Queryable,
  t: Omit<TargetRow, "inserted_at" | "updated_at">,
): Promise<TargetRow | undefined> {
  const { rows } = await db.query<TargetRow>(
    `update sequin_targets set name = $2, host = $3, port = $4, database = $5, username = $6, ssl = $7,
       password_encrypted = $8, ssh_tunnel = $9, ssh_secret_encrypted = $10, updated_at = now()
     where id = $1 returning ${columns}`,
    [
      t.id,
      t.name,
      t.host,
      t.port,
      t.database,
      t.username,
      t.ssl,
      t.password_encrypted,
      t.ssh_tunnel,
      t.ssh_secret_encrypted,
    ],
  );
  return rows[0];
}

export async function deleteTargetRow(db: Queryable, id: string): Promise<boolean> {
  return ((await db.query("delete from sequin_targets where id = $1", [id])).rowCount ?? 0) === 1;
}

export async function countConsumersOfTarget(
  db: Queryable,
  id: string,
): Promise<{ total: number; waiting: number }> {
  const { rows } = await db.query<{ total: number; waiting: number }>(
    `select count(*)::int as total, count(*) filter (where state = 'waiting_for_target')::int as waiting
     from sequin_consumers where target_id = $1`,
    [id],
  );
  return rows[0]!;
}

/** Every target's consumers counted, in one statement: targets without consumers are absent. */
export async function countConsumersByTarget(
  db: Queryable,
): Promise<Map<string, { total: number; waiting: number }>> {
  const { rows } = await db.query<{ target_id: string; total: number; waiting: number }>(
    `select target_id, count(*)::int as total,
       count(*) filter (where state = 'waiting_for_target')::int as waiting
     from sequin_consumers group by target_id`,
  );
  return new Map(rows.map((r) => [r.target_id, { total: r.total, waiting: r.waiting }]));
}

/** The consumers that write to a target, by name: what stands in the way of deleting it. */
export async function selectConsumersOfTarget(
  db: Queryable,
  id: string,
): Promise<{ id: string; name: string }[]> {
  const { rows } = await db.query<{ id: string; name: string }>(
    "select id, name from sequin_consumers where target_id = $1 order by name, id",
    [id],
  );
  return rows;
}
