/**
 * Every consumer's statistics in ONE statement: its row, its target's name, the status it and its target
 * last alerted about, the changes after its position (counted up to a cap) and when the oldest of them entered the
 * stream. Health, alerts, metrics, the lag chart and the consumers list all read this, instead of one
 * view (and two queries) per consumer.
 *
 * Each consumer's pending changes are read from the index of its filter (`sequin_records_by_provider` or
 * `_by_sync`): a branch per filter kind, the other switched off by its one-time condition, so each
 * consumer costs two short index range scans, the count stopping at `cap`.
 */
import type { Queryable } from "../stream/index.js";
import { type ConsumerRow, consumerColumns } from "./consumer-queries.js";

export interface ConsumerStatsRow extends ConsumerRow {
  /** null when the target is gone (it cannot be while consumers use it; kept for safety) */
  target_name: string | null;
  alerted_status: "healthy" | "unhealthy";
  /** the status the consumer's target last alerted about; null when the target is gone */
  target_alerted_status: "healthy" | "unhealthy" | null;
  /** changes after the consumer's position, counted up to the cap */
  pending_records: number;
  /** when the oldest of them entered the stream; null when none is pending */
  oldest_pending_at: Date | null;
}

const after = "(r.txid, r.position) > (c.cursor_txid, c.cursor_position)";
const byProvider = `c.filter_provider is not null and r.provider = c.filter_provider and ${after}`;
const bySync = `c.filter_sync_id is not null and r.sync_id = c.filter_sync_id and ${after}`;

export function consumerStatsSql(one: boolean): string {
  return `select ${consumerColumns("c")}, t.name as target_name, c.alerted_status,
    t.alerted_status as target_alerted_status,
    (select l.owner::text from sequin_leases l join sequin_workers w on w.id = l.owner and w.expires_at > now()
      where l.kind = 'consumer' and l.resource_id = c.id) as worker_id,
    (select count(*)::int from (
       (select 1 from sequin_records r where ${byProvider} limit $1)
       union all
       (select 1 from sequin_records r where ${bySync} limit $1)) capped) as pending_records,
    coalesce(
      (select r.changed_at from sequin_records r where ${byProvider} order by r.txid, r.position limit 1),
      (select r.changed_at from sequin_records r where ${bySync} order by r.txid, r.position limit 1)
    ) as oldest_pending_at
  from sequin_consumers c
  left join sequin_targets t on t.id = c.target_id
  ${one ? "where c.id = $2" : ""}
  order by c.inserted_at, c.id`;
}

/** Statistics of every consumer (or of the one with `id`), pending changes counted up to `cap`. */
export async function selectConsumerStats(
  db: Queryable,
  cap: number,
  id?: string,
): Promise<ConsumerStatsRow[]> {
  const { rows } = await db.query<ConsumerStatsRow>(
    consumerStatsSql(id !== undefined),
    id !== undefined ? [cap, id] : [cap],
  );
  return rows;
}
