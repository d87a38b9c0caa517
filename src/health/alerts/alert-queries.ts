/**
 * SQL for alert bookkeeping: the compare-and-set of an entity's alerted status (in its kind's own table),
 * and the delivery queue.
 */
import type pg from "pg";
import type { Queryable } from "../../db/queryable.js";
import type { CheckStatus } from "../../health-checks.js";
import type { AlertEvent, AlertPayload, EntityKind } from "./alert-payload.js";

export type AlertChannel = "email" | "webhook";

/** The table that keeps each kind's `alerted_status`, and its key column. */
const tableOf: Record<EntityKind, { table: string; key: string }> = {
  consumer: { table: "sequin_consumers", key: "id" },
  target: { table: "sequin_targets", key: "id" },
  sync: { table: "sequin_sources", key: "sync_id" },
};

/** Moves the alerted status from `from` to `to`; true only for the one caller that made the change. */
export async function swapAlertedStatus(
  db: Queryable,
  entity: { kind: EntityKind; id: string },
  from: CheckStatus,
  to: CheckStatus,
): Promise<boolean> {
  const result = await db.query(
    `update ${tableOf[entity.kind].table} set alerted_status = $3, alerted_at = now()
     where ${tableOf[entity.kind].key} = $1 and alerted_status = $2`,
    [entity.id, from, to],
  );
  return result.rowCount === 1;
}

export async function insertDelivery(
  db: Queryable,
  d: { kind: EntityKind; entityId: string; channel: AlertChannel; event: AlertEvent; payload: AlertPayload },
): Promise<void> {
  await db.query(
    `insert into sequin_alert_deliveries (entity_kind, entity_id, channel, event, payload)
     values ($1, $2, $3, $4, $5)`,
    [d.kind, d.entityId, d.channel, d.event, d.payload],
  );
}

export interface DeliveryRow {
  id: string;
  entity_kind: EntityKind;
  entity_id: string;
  channel: AlertChannel;
  event: AlertEvent;
  payload: AlertPayload;
  attempts: number;
}

/**
 * Takes up to `limit` due deliveries for this sender: pushes their next attempt `leaseSeconds` ahead so
 * another process does not send them meanwhile (if this one dies, they come due again).
 */
export async function claimDueDeliveries(
  db: pg.Pool,
  limit: number,
  leaseSeconds: number,
): Promise<DeliveryRow[]> {
  const { rows } = await db.query<DeliveryRow>(
    `update sequin_alert_deliveries set next_attempt_at = now() + make_interval(secs => $2)
     where id in (select id from sequin_alert_deliveries
                  where delivered_at is null and next_attempt_at <= now()
                  order by id limit $1 for update skip locked)
     returning id::text, entity_kind, entity_id, channel, event, payload, attempts`,
    [limit, leaseSeconds],
  );
  return rows;
}

export async function markDelivered(db: Queryable, id: string): Promise<void> {
  await db.query(
    "update sequin_alert_deliveries set delivered_at = now(), attempts = attempts + 1 where id = $1",
    [id],
  );
}

export async function markFailed(
  db: Queryable,
  id: string,
  error: string,
  retryInSeconds: number,
): Promise<void> {
  await db.query(
    `update sequin_alert_deliveries set attempts = attempts + 1, last_error = $2,
       next_attempt_at = now() + make_interval(secs => $3) where id = $1`,
    [id, error, retryInSeconds],
  );
}
