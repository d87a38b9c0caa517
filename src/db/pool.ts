/** Connection pools for the service's own store. */
import pg from "pg";

// int8 (bigint) as JS string is pg's default; counts we read are cast to int in SQL instead.
export interface StorePoolOptions {
  max?: number;
  applicationName?: string;
}

export function createStorePool(url: string, options: StorePoolOptions = {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    application_name: options.applicationName ?? "sequin",
    // short enough that the API answers 503 store_unavailable within 5 s when the store does not answer
    connectionTimeoutMillis: 4_000,
    idleTimeoutMillis: 30_000,
  });
  // An idle client whose server went away emits 'error' on the pool; without a listener that kills the
  // process. The next query reconnects, so it is enough to swallow it here.
  pool.on("error", () => {});
  // A client checked out of the pool (a transaction, a COPY) whose server goes away between two queries
  // emits 'error' with no listener, which would kill the process. The query in flight, if any, fails on
  // its own; the dead client is not queryable any more and the pool discards it on release.
  pool.on("connect", (client) => {
    client.on("error", () => {});
  });
  return pool;
}
