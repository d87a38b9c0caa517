/**
 * SSH key pairs made by the service, so users need not make one: the public key is shown (API, console) to
 * be installed on the bastion; the private key is encrypted with the vault and only ever leaves this module
 * inside an SSH handshake. A target uses one through `ssh_tunnel.key_id`.
 */
import { randomUUID } from "node:crypto";
import type pg from "pg";
import { notFound } from "../errors.js";
import type { Vault } from "../vault/index.js";
import { generateSshKeyPair } from "./ssh-key-pair.js";
import { insertSshKey, type SshKeyRow, selectSshKey } from "./ssh-key-queries.js";
import type { SshKeyView } from "./target-schemas.js";

export class SshKeys {
  constructor(
    private readonly pool: pg.Pool,
    private readonly vault: Vault,
  ) {}

  async create(): Promise<SshKeyView> {
    const pair = generateSshKeyPair();
    const row = await insertSshKey(this.pool, {
      id: randomUUID(),
      public_key: pair.publicKey,
      private_key_encrypted: this.vault.encrypt(pair.privateKey),
    });
    return view(row);
  }

  async get(id: string): Promise<SshKeyView> {
    const row = await selectSshKey(this.pool, id);
    if (!row) throw notFound("SSH key", id);
    return view(row);
  }

  /** The key pair for a tunnel, or undefined when there is no such key. */
  async pair(id: string): Promise<{ privateKey: string; publicKey: string } | undefined> {
    const row = await selectSshKey(this.pool, id);
    if (!row) return undefined;
    return { privateKey: this.vault.decrypt(row.private_key_encrypted), publicKey: row.public_key };
  }
}

function view(row: SshKeyRow): SshKeyView {
  return { id: row.id, public_key: row.public_key, inserted_at: row.inserted_at.toISOString() };
}
