/** Target databases, seed users and connections for the Postgres target's tests. */
import { randomBytes } from "node:crypto";
import { after } from "node:test";
import pg from "pg";
import {
  connectTarget,
  quoteIdent,
  setupSql,
  type TargetConnection,
} from "../../src/targets/postgres/index.js";
import { createDatabase, testServerUrl } from "../helpers/database.js";

export function uniqueName(prefix: string): string {
  return `${prefix}_${randomBytes(4).toString("hex")}`;
}

export function connectionFromUrl(url: string): TargetConnection {
  const u = new URL(url);
  return {
    host: u.hostname,
    port: Number(u.port || 5432),
    database: decodeURIComponent(u.pathname.slice(1)),
    username: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    ssl: "disable",
  };
}

/** A client for `conn`, ended after the file's tests. */
export async function connect(conn: TargetConnection): Promise<pg.Client> {
  const client = await connectTarget(conn);
  after(() => client.end().catch(() => {}));
  return client;
}

export interface TargetDatabase {
  /** Superuser connection settings. */
  conn: TargetConnection;
  /** A superuser client. */
  admin: pg.Client;
}

/** A fresh empty database on the test server, dropped after the file's tests. */
export async function createTargetDatabase(): Promise<TargetDatabase> {
  const conn = connectionFromUrl(await createDatabase("target"));
  return { conn, admin: await connect(conn) };
}

/**
 * Runs the seed's setup statements as superuser and returns the new user's connection settings. The
 * role is dropped after the file's tests, once its database is gone.
 */
export async function createSeedUser(
  db: TargetDatabase,
  schema: string,
  user = uniqueName("sequin"),
): Promise<TargetConnection> {
  const password = `pw'${randomBytes(6).toString("hex")}\\`;
  await db.admin.query(setupSql({ schema, user, database: db.conn.database, password }));
  after(async () => {
    const server = new pg.Client({ connectionString: testServerUrl() });
    await server.connect();
    try {
      await server.query(`drop database if exists ${quoteIdent(db.conn.database)} with (force)`);
      await server.query(`drop role if exists ${quoteIdent(user)}`);
    } finally {
      await server.end();
    }
  });
  return { ...db.conn, username: user, password };
}
