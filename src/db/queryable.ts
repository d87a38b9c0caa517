import type pg from "pg";

/** Anything a query function can run on: a pool, a client checked out of one, or a client of its own. */
export type Queryable = Pick<pg.Pool | pg.PoolClient | pg.Client, "query">;
