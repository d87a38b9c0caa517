/** From stored consumer rows to what runners get and what the API answers. */

import type { Pending, StreamFilter } from "../stream/index.js";
import { createTableSql } from "../targets/postgres/index.js";
import { consumerHealth } from "./consumer-health.js";
import type { ConsumerRow } from "./consumer-queries.js";
import type { ConsumerAssignment } from "./consumer-runner.js";
import type { ConsumerView, ConsumerWarning } from "./consumer-schemas.js";

export function filterOf(row: ConsumerRow): StreamFilter {
  return row.filter_provider !== null ? { provider: row.filter_provider } : { syncId: row.filter_sync_id! };
}

/** What a runner gets: the consumer's row, and the fence of the lease its worker holds on it. */
export function assignmentOf(row: ConsumerRow, fence: string): ConsumerAssignment {
  const state =
    row.state === "inactive" || row.state === "paused"
      ? row.backfill_head_txid
        ? "backfilling"
        : "live"
      : row.state;
  return {
    id: row.id,
    name: row.name,
    fence,
    filter: filterOf(row),
    table: { schema: row.table_schema, name: row.table_name },
    cursor: { txid: row.cursor_txid, position: row.cursor_position },
    state,
    backfillHead:
      row.backfill_head_txid !== null
        ? { txid: row.backfill_head_txid, position: row.backfill_head_position! }
        : null,
    tableIdentity:
      row.table_oid !== null ? { oid: row.table_oid, relfilenode: row.table_relfilenode ?? "0" } : null,
    rewrite:
      row.rewrite_cursor_txid !== null
        ? {
            reason: row.rewrite_reason ?? "asked for",
            cursor: { txid: row.rewrite_cursor_txid, position: row.rewrite_cursor_position ?? "0" },
            head: { txid: row.rewrite_head_txid ?? "0", position: row.rewrite_head_position ?? "0" },
          }
        : null,
  };
}

export interface ViewContext {
  targetName: string;
  pending: Pending;
  lagThresholdSeconds: number;
  warnings?: ConsumerWarning[];
  now?: Date;
}

export function consumerView(row: ConsumerRow, ctx: ViewContext): ConsumerView {
  const now = ctx.now ?? new Date();
  const lagSeconds = ctx.pending.oldestChangedAt
    ? Math.max(0, (now.getTime() - ctx.pending.oldestChangedAt.getTime()) / 1000)
    : 0;
  const threshold = row.lag_alert_seconds ?? ctx.lagThresholdSeconds;
  const table = { schema: row.table_schema, name: row.table_name };
  const total = row.backfill_total === null ? 0 : Number(row.backfill_total);
  const done = Number(row.backfill_done);
  return {
    id: row.id,
    name: row.name,
    target_id: row.target_id,
    filter:
      row.filter_provider !== null ? { provider: row.filter_provider } : { sync_id: row.filter_sync_id! },
    table,
    create_table_sql: createTableSql(table),
    state: row.state,
    health: consumerHealth(
      {
        state: row.state,
        stateChangedAt: row.state_changed_at,
        targetId: row.target_id,
        targetName: ctx.targetName,
        lastError: row.last_error,
        lagSeconds,
        lagRecords: ctx.pending.records,
        lagThresholdSeconds: threshold,
        warnings: (ctx.warnings ?? []).map((w) => w.message),
        rewrite:
          row.rewrite_started_at && !row.rewrite_finished_at && row.state !== "inactive"
            ? {
                reason: row.rewrite_reason ?? "asked for",
                since: row.rewrite_started_at,
                done: Number(row.rewrite_done),
                total: Number(row.rewrite_total ?? 0),
              }
            : null,
      },
      now,
    ),
    lag: { records: ctx.pending.records, seconds: Math.round(lagSeconds * 1000) / 1000 },
    stats: {
      upserted: Number(row.upserted),
      deleted: Number(row.deleted),
      last_applied_at: row.last_applied_at?.toISOString() ?? null,
    },
    backfill: backfillOf(row, total, done),
    last_error: row.last_error,
    lag_alert_seconds: row.lag_alert_seconds,
    worker_id: row.worker_id ?? null,
    warnings: ctx.warnings ?? [],
    state_changed_at: row.state_changed_at.toISOString(),
    inserted_at: row.inserted_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

/**
 * Progress of the first backfill (while it runs), or of the latest rewrite of the table from the stream
 * (running, or finished: then `finished_at` says when).
 */
function backfillOf(row: ConsumerRow, total: number, done: number): ConsumerView["backfill"] {
  const progress = (d: number, t: number) => (t === 0 ? 1 : Math.min(1, d / t));
  if (row.rewrite_started_at !== null && row.state !== "inactive") {
    const rewriteTotal = Number(row.rewrite_total ?? 0);
    const rewriteDone = Math.min(Number(row.rewrite_done), rewriteTotal);
    const finished = row.rewrite_finished_at;
    return {
      total: rewriteTotal,
      done: finished ? rewriteTotal : rewriteDone,
      progress: finished ? 1 : progress(rewriteDone, rewriteTotal),
      kind: "rewrite",
      reason: row.rewrite_reason ?? "",
      started_at: row.rewrite_started_at.toISOString(),
      finished_at: finished?.toISOString() ?? null,
      deleted: Number(row.rewrite_deleted),
    };
  }
  if (row.backfill_head_txid !== null && row.state !== "inactive")
    return { total, done: Math.min(done, total), progress: progress(done, total), kind: "first" };
  return null;
}
