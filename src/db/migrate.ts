/**
 * Applies the numbered SQL files in ./migrations in order, each in its own transaction. A transaction-level
 * advisory lock makes concurrent starts of several workers wait for one another instead of racing.
 */
import { readdir, readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type pg from "pg";
import { withTransaction } from "./transaction.js";

const migrationsDir = join(dirname(fileURLToPath(import.meta.url)), "migrations");
const migrationLockKey = 7376_0001;

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export async function loadMigrations(): Promise<Migration[]> {
  const files = (await readdir(migrationsDir)).filter((f) => /^\d{3}_[a-z0-9_]+\.sql$/.test(f)).sort();
  return Promise.all(
    files.map(async (file) => ({
      version: Number(file.slice(0, 3)),
      name: file.replace(/\.sql$/, ""),
      sql: await readFile(join(migrationsDir, file), "utf8"),
    })),
  );
}

/** Brings the store's schema up to date; returns the names of the migrations it applied. */
export async function migrate(pool: pg.Pool): Promise<string[]> {
  const migrations = await loadMigrations();
  const client = await pool.connect();
  const applied: string[] = [];
  try {
    await client.query(
      "create table if not exists sequin_migrations (version int primary key, name text not null, applied_at timestamptz not null default now())",
    );
    for (const migration of migrations) {
      try {
        await withTransaction(client, async () => {
          await client.query("select pg_advisory_xact_lock($1)", [migrationLockKey]);
          const done = await client.query("select 1 from sequin_migrations where version = $1", [
            migration.version,
          ]);
          if (done.rowCount === 0) {
            await client.query(migration.sql);
            await client.query("insert into sequin_migrations (version, name) values ($1, $2)", [
              migration.version,
              migration.name,
            ]);
            applied.push(migration.name);
          }
        });
      } catch (error) {
        throw new Error(`migration ${migration.name} failed: ${(error as Error).message}`, { cause: error });
      }
    }
  } finally {
    client.release();
  }
  return applied;
}
