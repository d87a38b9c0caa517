/**
 * The fence in the target: a consumer's writes to its table are accepted only from the worker that holds its
 * lease now. A small table in the consumer's schema, `sequin_fences (consumer_id, fence)`, holds the highest
 * fence that wrote there. A runner takes it when it starts (so nothing older can commit afterwards), and
 * every batch moves it as the LAST statement before COMMIT, `where fence <= mine`: a worker whose lease
 * moved on finds a higher fence, writes nothing and rolls back.
 *
 * The fence row is locked from that statement until COMMIT; a worker frozen in between would block the new
 * owner's first write, so each target session ends itself when idle in a transaction for longer than the
 * lease (`idle_in_transaction_session_timeout`), which rolls the frozen batch back.
 */
import type pg from "pg";
import { quoteIdent } from "./identifiers.js";

export interface TargetFence {
  /** the consumer's schema, where `sequin_fences` lives */
  schema: string;
  consumerId: string;
  fence: string;
}

/** The name of the fence table, in every consumer's schema. */
export const fenceTableName = "sequin_fences";

/** The target refused a write because a newer owner of the consumer wrote there: the lease moved on. */
export class FenceRefused extends Error {
  readonly code = "fence_refused";
  constructor(
    readonly fence: string,
    /** the fence table or row was gone: the runner restarts and takes the fence again */
    readonly missing = false,
  ) {
    super(
      missing
        ? `the fence table ${fenceTableName} or its row for this consumer is gone: the runner restarts and creates it again`
        : `the target holds a newer fence than ${fence}: another worker owns this consumer now`,
    );
  }
}

function fenceTable(schema: string): string {
  return `${quoteIdent(schema)}.${quoteIdent(fenceTableName)}`;
}

export function createFenceTableSql(schema: string): string {
  return `create table if not exists ${fenceTable(schema)} (consumer_id uuid primary key, fence bigint not null)`;
}

/**
 * Prepares a new target session for fenced writes: the idle-in-transaction limit, and the fence table
 * (created by the consumer's user, which may create in its schema).
 */
export async function prepareFencedSession(
  client: pg.ClientBase,
  schema: string,
  idleInTransactionMs: number,
): Promise<void> {
  await client.query("select set_config('idle_in_transaction_session_timeout', $1, false)", [
    String(idleInTransactionMs),
  ]);
  await client.query(createFenceTableSql(schema)).catch((error: { code?: string }) => {
    // two sessions creating it at once: the loser finds it made
    if (error.code !== "23505" && error.code !== "42P07") throw error;
  });
}

/** Takes the fence for a new owner: false when a newer one already holds it. */
export async function takeFence(client: pg.ClientBase, f: TargetFence): Promise<boolean> {
  const result = await client.query(
    `insert into ${fenceTable(f.schema)} as f (consumer_id, fence) values ($1, $2)
     on conflict (consumer_id) do update set fence = excluded.fence where f.fence <= excluded.fence`,
    [f.consumerId, f.fence],
  );
  return result.rowCount === 1;
}

/** The last statement of a batch's transaction: throws FenceRefused when a newer owner wrote since. */
export async function advanceFence(client: pg.ClientBase, f: TargetFence): Promise<void> {
  const result = await client
    .query(
      `with moved as (update ${fenceTable(f.schema)} set fence = $2 where consumer_id = $1 and fence <= $2 returning 1)
       select (select count(*) from moved)::int as moved,
              exists (select 1 from ${fenceTable(f.schema)} where consumer_id = $1) as present`,
      [f.consumerId, f.fence],
    )
    .catch((error: { code?: string }) => {
      // someone dropped the fence table: the batch rolls back, the runner restarts and creates it again
      if (error.code === "42P01") throw new FenceRefused(f.fence, true);
      throw error;
    });
  const { moved, present } = result.rows[0] as { moved: number; present: boolean };
  if (moved !== 1) throw new FenceRefused(f.fence, !present);
}
