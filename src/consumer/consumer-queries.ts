/**
 * SQL for consumers: definitions, fenced position commits and lifecycle events. Who runs a consumer is its
 * lease (src/work, kind "consumer"); every runner write checks the lease's fence.
 */
import type { Cursor, Queryable } from "../stream/index.js";
import { bumpFenceSql, fenceHolds } from "../work/index.js";
import type { ConsumerState } from "./consumer-lifecycle.js";

export interface ConsumerRow {
  id: string;
  name: string;
  target_id: string;
  filter_provider: string | null;
  filter_sync_id: string | null;
  table_schema: string;
  table_name: string;
  desired: "inactive" | "active" | "paused";
  state: ConsumerState;
  state_changed_at: Date;
  cursor_txid: string;
  cursor_position: string;
  backfill_head_txid: string | null;
  backfill_head_position: string | null;
  backfill_total: string | null;
  backfill_done: string;
  upserted: string;
  deleted: string;
  last_applied_at: Date | null;
  last_error: LastError | null;
  lag_alert_seconds: number | null;
  /** the live worker holding the consumer's lease, where a statement reads it (the statistics do) */
  worker_id?: string | null;
  /** identity of the table last written to (see migration 008) */
  table_oid: string | null;
  table_relfilenode: string | null;
  rewrite_reason: string | null;
  rewrite_started_at: Date | null;
  rewrite_finished_at: Date | null;
  rewrite_cursor_txid: string | null;
  rewrite_cursor_position: string | null;
  rewrite_head_txid: string | null;
  rewrite_head_position: string | null;
  rewrite_total: string | null;
  rewrite_done: string;
  rewrite_deleted: string;
  inserted_at: Date;
  updated_at: Date;
}

export interface LastError {
  message: string;
  sqlstate?: string;
  record?: { sequin_id: string; collection_id: string; upstream_id: string };
  /** When this attempt failed. */
  at: string;
  /**
   * Failed attempts in the current incident, 1 for the first: a retry that fails in the same state counts
   * here, never moves `state_changed_at` (written by the queries below, never by the runner).
   */
  attempts?: number;
}

const columns = `id, name, target_id, filter_provider, filter_sync_id, table_schema, table_name, desired, state,
  state_changed_at, cursor_txid::text, cursor_position::text, backfill_head_txid::text,
  backfill_head_position::text, backfill_total::text, backfill_done::text, upserted::text, deleted::text,
  last_applied_at, last_error, lag_alert_seconds, table_oid::text, table_relfilenode::text, rewrite_reason, rewrite_started_at, rewrite_finished_at,
  rewrite_cursor_txid::text, rewrite_cursor_position::text, rewrite_head_txid::text,
  rewrite_head_position::text, rewrite_total::text, rewrite_done::text, rewrite_deleted::text, inserted_at,
  updated_at`;

/** The row's columns qualified by a table alias, for statements that join other tables. */
export function consumerColumns(alias: string): string {
  return columns
    .split(",")
    .map((c) => `${alias}.${c.trim()}`)
    .join(", ");
}

export interface NewConsumerRow {
  id: string;
  name: string;
  target_id: string;
  filter_provider: string | null;
  filter_sync_id: string | null;
  table_schema: string;
  table_name: string;
  lag_alert_seconds: number | null;
}

export async function insertConsumer(db: Queryable, c: NewConsumerRow): Promise<ConsumerRow> {
  const { rows } = await db.query<ConsumerRow>(
    `insert into sequin_consumers
       (id, name, target_id, filter_provider, filter_sync_id, table_schema, table_name, lag_alert_seconds)
     values ($1, $2, $3, $4, $5, $6, $7, $8) returning ${columns}`,
    [
      c.id,
      c.name,
      c.target_id,
      c.filter_provider,
      c.filter_sync_id,
      c.table_schema,
      c.table_name,
      c.lag_alert_seconds,
    ],
  );
  return rows[0]!;
}

export async function selectConsumers(db: Queryable): Promise<ConsumerRow[]> {
  const { rows } = await db.query<ConsumerRow>(
    `select ${columns} from sequin_consumers order by inserted_at, id`,
  );
  return rows;
}

export async function selectConsumer(db: Queryable, id: string): Promise<ConsumerRow | undefined> {
  const { rows } = await db.query<ConsumerRow>(`select ${columns} from sequin_consumers where id = $1`, [id]);
  return rows[0];
}

export async function selectConsumersOfTarget(db: Queryable, targetId: string): Promise<ConsumerRow[]> {
  const { rows } = await db.query<ConsumerRow>(
    `select ${columns} from sequin_consumers where target_id = $1`,
    [targetId],
  );
  return rows;
}

/**
 * Definition changes. Changing the filter or table restarts forwarding from the stream's start, and moves
 * the lease's fence on in the same statement (the lease row first, the order every fenced commit locks in),
 * so the runner restarts and no commit of the old definition lands after the reset.
 */
export async function updateConsumerDefinition(
  db: Queryable,
  id: string,
  c: Omit<NewConsumerRow, "id">,
  resetPosition: boolean,
): Promise<ConsumerRow | undefined> {
  const { rows } = await db.query<ConsumerRow>(
    `with bumped as (${bumpFenceSql("consumer", "$1")} and $9 returning 1)
     update sequin_consumers set name = $2, target_id = $3, filter_provider = $4, filter_sync_id = $5,
       table_schema = $6, table_name = $7, lag_alert_seconds = $8, updated_at = now(),
       cursor_txid = case when $9 then '0'::xid8 else cursor_txid end,
       cursor_position = case when $9 then 0 else cursor_position end,
       backfill_done = case when $9 then 0 else backfill_done end
     where id = $1 and (select count(*) from bumped) >= 0 returning ${columns}`,
    [
      id,
      c.name,
      c.target_id,
      c.filter_provider,
      c.filter_sync_id,
      c.table_schema,
      c.table_name,
      c.lag_alert_seconds,
      resetPosition,
    ],
  );
  return rows[0];
}

export async function deleteConsumerRow(db: Queryable, id: string): Promise<boolean> {
  return ((await db.query("delete from sequin_consumers where id = $1", [id])).rowCount ?? 0) === 1;
}

/** Start or resume: the user wants the consumer running. `head` is set only on the first start. */
export async function activateConsumer(
  db: Queryable,
  id: string,
  state: ConsumerState,
  head: { cursor: Cursor; total: number } | null,
): Promise<ConsumerRow | undefined> {
  const { rows } = await db.query<ConsumerRow>(
    `update sequin_consumers set desired = 'active', state = $2, state_changed_at = now(), updated_at = now(),
       backfill_head_txid = case when $3::boolean then $4::xid8 else backfill_head_txid end,
       backfill_head_position = case when $3::boolean then $5::bigint else backfill_head_position end,
       backfill_total = case when $3::boolean then $6::bigint else backfill_total end
     where id = $1 returning ${columns}`,
    [id, state, head !== null, head?.cursor.txid ?? null, head?.cursor.position ?? null, head?.total ?? null],
  );
  return rows[0];
}

export async function pauseConsumerRow(db: Queryable, id: string): Promise<ConsumerRow | undefined> {
  const { rows } = await db.query<ConsumerRow>(
    `update sequin_consumers set desired = 'paused', state = 'paused', state_changed_at = now(), updated_at = now()
     where id = $1 returning ${columns}`,
    [id],
  );
  return rows[0];
}

export async function insertConsumerEvent(
  db: Queryable,
  e: { consumerId: string; from: ConsumerState; to: ConsumerState; note: string | null },
): Promise<void> {
  await db.query(
    "insert into sequin_consumer_events (consumer_id, from_state, to_state, note) values ($1, $2, $3, $4)",
    [e.consumerId, e.from, e.to, e.note],
  );
}

export interface ConsumerEventRow {
  at: Date;
  from_state: ConsumerState;
  to_state: ConsumerState;
  note: string | null;
}

export async function selectConsumerEvents(
  db: Queryable,
  id: string,
  limit: number,
): Promise<ConsumerEventRow[]> {
  const { rows } = await db.query<ConsumerEventRow>(
    "select at, from_state, to_state, note from sequin_consumer_events where consumer_id = $1 order by id desc limit $2",
    [id, limit],
  );
  return rows;
}

/** Ids of the consumers that should run now (the resources of kind "consumer" to share among workers). */
export async function selectActiveConsumerIds(db: Queryable): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    "select id::text from sequin_consumers where desired = 'active' order by id",
  );
  return rows.map((r) => r.id);
}

export async function selectConsumersByIds(db: Queryable, ids: readonly string[]): Promise<ConsumerRow[]> {
  const { rows } = await db.query<ConsumerRow>(
    `select ${columns} from sequin_consumers where id = any($1::uuid[])`,
    [ids],
  );
  return rows;
}

/** The where clause of a runner's write: its lease's fence is still `$2` (consumer id `$1`). */
const fenced = fenceHolds("consumer", "$1", "$2");

/**
 * Records a committed batch: moves the cursor and adds to the counters, only while the fence still matches.
 * Returns false when another worker took the consumer over.
 */
export async function commitPosition(
  db: Queryable,
  p: { id: string; fence: string; cursor: Cursor; upserted: number; deleted: number; applied: number },
): Promise<boolean> {
  const result = await db.query(
    `update sequin_consumers set cursor_txid = $3::xid8, cursor_position = $4, upserted = upserted + $5,
       deleted = deleted + $6, backfill_done = backfill_done + $7,
       last_applied_at = case when $5 + $6 > 0 then now() else last_applied_at end
     where id = $1 and ${fenced} and (cursor_txid, cursor_position) <= ($3::xid8, $4::bigint)`,
    [p.id, p.fence, p.cursor.txid, p.cursor.position, p.upserted, p.deleted, p.applied],
  );
  return result.rowCount === 1;
}

/** `last_error` plus one more failed attempt of the incident the stored error belongs to. */
const nextAttempt = `jsonb_build_object('attempts', coalesce((last_error->>'attempts')::int, 1) + 1)`;

/**
 * A runner's state change, guarded so it never overrides a pause and never writes after losing the lease.
 * `state_changed_at` is when the state began, so it moves only when the state does: a retry that fails
 * again in the same state (`failed`: lastError is a new failure, not the one kept) is the same incident and
 * counts one more attempt in `last_error.attempts`, even when the error now names another record.
 */
export async function updateRunnerState(
  db: Queryable,
  p: {
    id: string;
    fence: string;
    state: ConsumerState;
    lastError: LastError | null;
    failed: boolean;
    finishBackfill: boolean;
  },
): Promise<boolean> {
  const result = await db.query(
    `update sequin_consumers set state = $3,
       state_changed_at = case when state = $3 then state_changed_at else now() end,
       last_error = case
         when $4::jsonb is null then null
         when state <> $3 then $4::jsonb || case when $6 then '{"attempts": 1}'::jsonb else '{}' end
         when $6 then $4::jsonb || ${nextAttempt}
         else last_error end,
       backfill_head_txid = case when $5 then null else backfill_head_txid end,
       backfill_head_position = case when $5 then null else backfill_head_position end
     where id = $1 and ${fenced} and desired = 'active'`,
    [p.id, p.fence, p.state, p.lastError, p.finishBackfill, p.failed],
  );
  return result.rowCount === 1;
}

/** One more failed attempt in the same state (a probe of a target still unreachable): its error, counted. */
export async function recordFailedRetry(
  db: Queryable,
  id: string,
  fence: string,
  lastError: LastError,
): Promise<void> {
  await db.query(
    `update sequin_consumers set last_error = $3::jsonb || ${nextAttempt} where id = $1 and ${fenced}`,
    [id, fence, lastError],
  );
}

export async function selectSyncProvider(db: Queryable, syncId: string): Promise<string | undefined> {
  const { rows } = await db.query<{ provider: string }>("select provider from sequin_syncs where id = $1", [
    syncId,
  ]);
  return rows[0]?.provider;
}
