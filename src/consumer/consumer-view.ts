/** From stored consumer rows to what runners get and what the API answers. */
import { consumerHealth } from "../health/consumer-health.js";
import type { Pending, StreamFilter } from "../stream/index.js";
import { createTableSql } from "../targets/postgres/index.js";
import type { ConsumerRow } from "./consumer-queries.js";
import type { ConsumerAssignment } from "./consumer-runner.js";
import type { ConsumerView, ConsumerWarning } from "./consumer-schemas.js";

export function filterOf(row: ConsumerRow): StreamFilter {
  return row.filter_provider !== null ? { provider: row.filter_provider } : { syncId: row.filter_sync_id! };
}

export function assignmentOf(row: ConsumerRow): ConsumerAssignment {
  const state =
    row.state === "inactive" || row.state === "paused"
      ? row.backfill_head_txid
        ? "backfilling"
        : "live"
      : row.state;
  return {
    id: row.id,
    name: row.name,
    fence: row.lease_fence,
    filter: filterOf(row),
    table: { schema: row.table_schema, name: row.table_name },
    cursor: { txid: row.cursor_txid, position: row.cursor_position },
    state,
    backfillHead:
      row.backfill_head_txid !== null
        ? { txid: row.backfill_head_txid, position: row.backfill_head_position! }
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
      },
      now,
    ),
    lag: { records: ctx.pending.records, seconds: Math.round(lagSeconds * 1000) / 1000 },
    stats: {
      upserted: Number(row.upserted),
      deleted: Number(row.deleted),
      last_applied_at: row.last_applied_at?.toISOString() ?? null,
    },
    backfill:
      row.backfill_head_txid !== null && row.state !== "inactive"
        ? { total, done: Math.min(done, total), progress: total === 0 ? 1 : Math.min(1, done / total) }
        : null,
    last_error: row.last_error,
    lag_alert_seconds: row.lag_alert_seconds,
    warnings: ctx.warnings ?? [],
    state_changed_at: row.state_changed_at.toISOString(),
    inserted_at: row.inserted_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}
