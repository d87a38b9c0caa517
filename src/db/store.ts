/**
 * The service's own store: a pool on SEQUIN_DATABASE_URL, or, without one, an embedded Postgres server in
 * `<dataDir>/pg`. Either way the schema is migrated before the store is handed out.
 *
 * One embedded store belongs to one process: `<dataDir>/sequin.lock` holds the owner's pid, created
 * exclusively. A lock left by a process that died (kill -9) is taken over; its orphaned postmaster is shut
 * down by the cluster before ours starts.
 */
import { chmod, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type pg from "pg";
import type { Config } from "../config.js";
import { SequinError } from "../errors.js";
import { migrate } from "./migrate.js";
import { createStorePool } from "./pool.js";
import { PostgresCluster } from "./postgres-cluster.js";

export interface StoreLog {
  info(obj: object, msg?: string): void;
}

export interface Store {
  pool: pg.Pool;
  /** Connection URL of the store (holds a password: never log it). */
  url: string;
  /** Whether this process runs the store's server (no SEQUIN_DATABASE_URL). */
  embedded: boolean;
  close(): Promise<void>;
}

const storeDatabase = "sequin";

export interface OpenStoreOptions {
  /**
   * When a running service holds the embedded store (its data directory's lock), connect to the Postgres
   * server that service runs instead of refusing (`sequin token create`). Its owner migrated it already.
   */
  shareRunning?: boolean;
}

export async function openStore(
  config: Config,
  log: StoreLog,
  options: OpenStoreOptions = {},
): Promise<Store> {
  if (config.databaseUrl) {
    const pool = createStorePool(config.databaseUrl);
    try {
      await migrateStore(pool);
    } catch (error) {
      await pool.end();
      throw error;
    }
    return { pool, url: config.databaseUrl, embedded: false, close: () => pool.end() };
  }
  return openEmbeddedStore(config.dataDir, log, options);
}

async function migrateStore(pool: pg.Pool): Promise<void> {
  try {
    await migrate(pool);
  } catch (error) {
    throw new SequinError("store_unavailable", `cannot prepare the store: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

async function openEmbeddedStore(dataDir: string, log: StoreLog, options: OpenStoreOptions): Promise<Store> {
  await prepareDataDir(dataDir);
  let lock: DataDirLock;
  try {
    lock = await DataDirLock.acquire(dataDir);
  } catch (error) {
    const owner = error instanceof SequinError ? error.details?.pid : undefined;
    if (!options.shareRunning || typeof owner !== "number") throw error;
    return runningEmbeddedStore(dataDir, owner);
  }
  const cluster = new PostgresCluster({ dataDir: join(dataDir, "pg"), port: 0 });
  let pool: pg.Pool | undefined;
  try {
    await cluster.start();
    await createDatabaseIfMissing(cluster);
    const url = cluster.url(storeDatabase);
    pool = createStorePool(url);
    await migrateStore(pool);
    log.info({ dataDir, pgdata: cluster.pgData, port: cluster.port }, "embedded store started");
    const opened = pool;
    return {
      pool: opened,
      url,
      embedded: true,
      close: async () => {
        await opened.end();
        await cluster.stop();
        await lock.release();
      },
    };
  } catch (error) {
    await pool?.end().catch(() => {});
    await cluster.stop().catch(() => {});
    await lock.release();
    throw error;
  }
}

/** The embedded store of the service that runs in `dataDir` (process `owner`), through its server. */
async function runningEmbeddedStore(dataDir: string, owner: number): Promise<Store> {
  const url = await PostgresCluster.runningUrl(join(dataDir, "pg"), storeDatabase);
  if (url) {
    const pool = createStorePool(url, { max: 2 });
    try {
      await pool.query("select from sequin_api_tokens limit 0");
      return { pool, url, embedded: false, close: () => pool.end() };
    } catch {
      await pool.end().catch(() => {});
    }
  }
  throw new SequinError(
    "store_unavailable",
    `data directory ${dataDir} is in use by process ${owner}, and its store cannot be reached (is it still starting?): try again once it prints "listening on", or stop it and try again`,
    { details: { data_dir: dataDir, pid: owner } },
  );
}

/**
 * Creates the data directory. When we are root the embedded server runs as the `postgres` user, which must
 * be able to pass through this directory to reach `pg/` (it cannot list it).
 */
async function prepareDataDir(dataDir: string): Promise<void> {
  await mkdir(dataDir, { recursive: true, mode: 0o711 });
  if (process.getuid?.() === 0) await chmod(dataDir, 0o711);
}

async function createDatabaseIfMissing(cluster: PostgresCluster): Promise<void> {
  const admin = createStorePool(cluster.url("postgres"), { max: 1 });
  try {
    const { rowCount } = await admin.query("select 1 from pg_database where datname = $1", [storeDatabase]);
    if (rowCount === 0) await admin.query(`create database ${storeDatabase}`);
  } finally {
    await admin.end();
  }
}

/** Data directories locked by this process (a pid reused after a container restart is not a live owner). */
const lockedHere = new Set<string>();

class DataDirLock {
  private constructor(
    private readonly dataDir: string,
    private readonly file: string,
  ) {}

  static async acquire(dataDir: string): Promise<DataDirLock> {
    const file = join(dataDir, "sequin.lock");
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await writeFile(file, `${process.pid}\n`, { flag: "wx", mode: 0o644 });
        lockedHere.add(dataDir);
        return new DataDirLock(dataDir, file);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      }
      const owner = Number((await readFile(file, "utf8").catch(() => "")).trim());
      if (Number.isInteger(owner) && owner > 0 && ownerIsAlive(owner, dataDir)) {
        throw new SequinError(
          "conflict",
          `data directory ${dataDir} is in use by process ${owner}: two processes must not share one embedded store; stop it or set SEQUIN_DATA_DIR`,
          { details: { data_dir: dataDir, pid: owner } },
        );
      }
      // The owner died without releasing the lock: take it over.
      await rm(file, { force: true });
    }
    throw new SequinError("conflict", `data directory ${dataDir}: could not take its lock (sequin.lock)`);
  }

  async release(): Promise<void> {
    lockedHere.delete(this.dataDir);
    await rm(this.file, { force: true });
  }
}

function ownerIsAlive(pid: number, dataDir: string): boolean {
  if (pid === process.pid) return lockedHere.has(dataDir);
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
