/**
 * Each test file gets its own store database, cloned from the migrated template the test command built.
 * Target databases (the user's Postgres) are separate databases on the same server, or a cluster of their
 * own when the test stops or restarts it (see clusters.ts).
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { createStorePool } from "../../src/db/pool.js";
import { onCleanup } from "./cleanup.js";

export function testServerUrl(): string {
  const url = process.env.SEQUIN_TEST_SERVER_URL;
  if (!url) throw new Error("run tests with `npm test`: it starts the Postgres server they use");
  return url;
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: testServerUrl() });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A fresh empty database on the test server, dropped when the file's tests end. Returns its URL. */
export async function createDatabase(prefix = "t", template?: string): Promise<string> {
  const name = `${prefix}_${randomBytes(6).toString("hex")}`;
  await admin((c) => c.query(`create database ${name}${template ? ` template ${template}` : ""}`));
  onCleanup(async () => {
    await admin((c) => c.query(`drop database if exists ${name} with (force)`));
  });
  return withDatabase(testServerUrl(), name);
}

export interface TestStore {
  url: string;
  pool: pg.Pool;
}

/**
 * A migrated store database of the test's own, with a pool closed after the file's tests. `settings`
 * become the database's defaults (`alter database … set`) before the first session opens.
 */
export async function createTestStore(settings: Record<string, string> = {}): Promise<TestStore> {
  const template = process.env.SEQUIN_TEST_TEMPLATE;
  if (!template) throw new Error("run tests with `npm test`: it builds the template database");
  const url = await createDatabase("store", template);
  await setDatabaseDefaults(url, settings);
  const pool = createStorePool(url, { max: 10, applicationName: "sequin-test" });
  onCleanup(() => pool.end());
  return { url, pool };
}

/** `alter database … set name = value` for each setting: sessions opened afterwards start with them. */
export async function setDatabaseDefaults(url: string, settings: Record<string, string>): Promise<void> {
  const database = new URL(url).pathname.slice(1);
  await admin(async (c) => {
    for (const [name, value] of Object.entries(settings)) {
      await c.query(`alter database "${database}" set ${name} = ${pg.escapeLiteral(value)}`);
    }
  });
}
