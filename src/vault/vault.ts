/**
 * Encrypts credentials at rest with AES-256-GCM. The key is SEQUIN_VAULT_KEY, or one generated into the data
 * directory on first start (mode 0600). A check value in the store detects a wrong key at start, before any
 * secret fails to decrypt mid-flight. Several workers sharing one store must share SEQUIN_VAULT_KEY.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseVaultKey } from "../config.js";
import type { Queryable } from "../db/queryable.js";
import { SequinError } from "../errors.js";

const version = 1;
const checkPlaintext = "sequin vault check";

export class Vault {
  private constructor(private readonly key: Buffer) {}

  static fromKey(key: Buffer): Vault {
    if (key.length !== 32) throw new Error("the vault key must be 32 bytes");
    return new Vault(key);
  }

  /** The configured key, or the data directory's generated one; checked against the store. */
  static async open(options: { key: Buffer | undefined; dataDir: string; store: Queryable }): Promise<Vault> {
    const vault = new Vault(options.key ?? (await dataDirKey(options.dataDir)));
    await vault.checkAgainst(options.store);
    return vault;
  }

  encrypt(plaintext: string): Buffer {
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", this.key, iv);
    const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    return Buffer.concat([Buffer.from([version]), iv, cipher.getAuthTag(), body]);
  }

  decrypt(sealed: Buffer): string {
    if (sealed[0] !== version) throw new Error("unknown vault format");
    const decipher = createDecipheriv("aes-256-gcm", this.key, sealed.subarray(1, 13));
    decipher.setAuthTag(sealed.subarray(13, 29));
    return Buffer.concat([decipher.update(sealed.subarray(29)), decipher.final()]).toString("utf8");
  }

  private async checkAgainst(store: Queryable): Promise<void> {
    const { rows } = await store.query<{ value: { sealed: string } }>(
      "select value from sequin_settings where key = 'vault_check'",
    );
    if (rows[0]) {
      try {
        if (this.decrypt(Buffer.from(rows[0].value.sealed, "base64")) === checkPlaintext) return;
      } catch {
        // fall through to the error below
      }
      throw new SequinError(
        "config_invalid",
        "SEQUIN_VAULT_KEY does not match the key that encrypted this store's credentials (set the original key; every worker sharing a store needs the same one)",
      );
    }
    await store.query(
      "insert into sequin_settings (key, value) values ('vault_check', $1) on conflict (key) do nothing",
      [{ sealed: this.encrypt(checkPlaintext).toString("base64") }],
    );
  }
}

async function dataDirKey(dataDir: string): Promise<Buffer> {
  const file = join(dataDir, "vault.key");
  if (existsSync(file)) {
    const key = parseVaultKey((await readFile(file, "utf8")).trim());
    if (!key) throw new SequinError("config_invalid", `${file} does not hold a 32-byte base64 key`);
    return key;
  }
  await mkdir(dataDir, { recursive: true });
  const key = randomBytes(32);
  await writeFile(file, `${key.toString("base64")}\n`, { mode: 0o600, flag: "wx" }).catch(async (error) => {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  });
  return parseVaultKey((await readFile(file, "utf8")).trim())!;
}
