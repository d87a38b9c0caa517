/** SQL for API tokens. Tokens are stored only as their SHA-256 digest. */
import type pg from "pg";
import type { Queryable } from "../db/queryable.js";
import { withTransaction } from "../db/transaction.js";

const firstTokenLockKey = 7376_0002;

export async function tokenExists(client: Queryable, sha256: Buffer): Promise<boolean> {
  const { rowCount } = await client.query("select 1 from sequin_api_tokens where token_sha256 = $1", [
    sha256,
  ]);
  return (rowCount ?? 0) > 0;
}

export async function insertToken(
  client: Queryable,
  id: string,
  name: string,
  sha256: Buffer,
): Promise<void> {
  await client.query("insert into sequin_api_tokens (id, name, token_sha256) values ($1, $2, $3)", [
    id,
    name,
    sha256,
  ]);
}

/**
 * Stores a first token when the table holds none. Concurrent first starts serialize on an advisory lock,
 * so only one of them stores (and prints) a token. Returns whether this call stored it.
 */
export async function insertFirstToken(
  pool: pg.Pool,
  id: string,
  name: string,
  sha256: Buffer,
): Promise<boolean> {
  return withTransaction(pool, async (client) => {
    await client.query("select pg_advisory_xact_lock($1)", [firstTokenLockKey]);
    const { rowCount } = await client.query(
      "insert into sequin_api_tokens (id, name, token_sha256) select $1, $2, $3 where not exists (select 1 from sequin_api_tokens)",
      [id, name, sha256],
    );
    return (rowCount ?? 0) > 0;
  });
}
