/** SQL for the SSH key pairs the service made for bastion tunnels. */
import type { Queryable } from "../db/queryable.js";

export interface SshKeyRow {
  id: string;
  public_key: string;
  private_key_encrypted: Buffer;
  inserted_at: Date;
}

export async function insertSshKey(db: Queryable, key: Omit<SshKeyRow, "inserted_at">): Promise<SshKeyRow> {
  const { rows } = await db.query<SshKeyRow>(
    `insert into sequin_ssh_keys (id, public_key, private_key_encrypted) values ($1, $2, $3)
     returning id, public_key, private_key_encrypted, inserted_at`,
    [key.id, key.public_key, key.private_key_encrypted],
  );
  return rows[0]!;
}

export async function selectSshKey(db: Queryable, id: string): Promise<SshKeyRow | undefined> {
  const { rows } = await db.query<SshKeyRow>(
    "select id, public_key, private_key_encrypted, inserted_at from sequin_ssh_keys where id = $1",
    [id],
  );
  return rows[0];
}
