/** SQL for console sign-ins: each session by the SHA-256 of its id, never the id itself. */
import type { Queryable } from "../db/queryable.js";

export async function insertConsoleSession(
  db: Queryable,
  idSha256: Buffer,
  ttlSeconds: number,
): Promise<void> {
  await db.query(
    `insert into sequin_console_sessions (id_sha256, expires_at)
     values ($1, now() + make_interval(secs => $2))`,
    [idSha256, ttlSeconds],
  );
}

/** Whether a session with this hash exists and has not expired. */
export async function consoleSessionValid(db: Queryable, idSha256: Buffer): Promise<boolean> {
  const { rows } = await db.query(
    "select 1 from sequin_console_sessions where id_sha256 = $1 and expires_at > now()",
    [idSha256],
  );
  return rows.length === 1;
}

export async function deleteConsoleSession(db: Queryable, idSha256: Buffer): Promise<void> {
  await db.query("delete from sequin_console_sessions where id_sha256 = $1", [idSha256]);
}

export async function deleteExpiredConsoleSessions(db: Queryable): Promise<number> {
  const result = await db.query("delete from sequin_console_sessions where expires_at <= now()");
  return result.rowCount ?? 0;
}
