/** Statements about the session itself rather than a table. */
import type pg from "pg";

/** Overrides any server-, database- or role-level statement_timeout for this session. */
export async function disableStatementTimeout(client: pg.ClientBase): Promise<void> {
  await client.query("set statement_timeout = 0");
}

export async function selectOne(client: pg.ClientBase): Promise<void> {
  await client.query("select 1");
}
