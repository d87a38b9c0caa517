/**
 * One transaction: begin, run `fn`, commit; on any failure roll back and rethrow that failure. A rollback
 * that fails too (the connection died) never hides the original error. Given a pool, a client is checked
 * out for the transaction and released after it (discarded when its rollback failed: its state is then
 * unknown); given a client, the caller keeps it.
 */
import pg from "pg";

export async function withTransaction<T>(db: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T>;
export async function withTransaction<C extends pg.ClientBase, T>(
  db: C,
  fn: (client: C) => Promise<T>,
): Promise<T>;
export async function withTransaction<T>(
  db: pg.Pool | pg.ClientBase,
  fn: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  if (!(db instanceof pg.Pool)) return inTransaction(db as pg.PoolClient, fn, () => {});
  const client = await db.connect();
  let broken = false;
  try {
    return await inTransaction(client, fn, () => {
      broken = true;
    });
  } finally {
    client.release(broken || undefined);
  }
}

async function inTransaction<C extends pg.ClientBase, T>(
  client: C,
  fn: (client: C) => Promise<T>,
  discard: () => void,
): Promise<T> {
  await client.query("begin").catch((error: unknown) => {
    discard();
    throw error;
  });
  try {
    const value = await fn(client);
    await client.query("commit");
    return value;
  } catch (error) {
    await client.query("rollback").catch(discard);
    throw error;
  }
}
