/** SQL for alert bookkeeping: the compare-and-set of a consumer's alerted status, and the delivery queue. */
import type pg from "pg";
import type { Queryable } from "../../db/queryable.js";

export type AlertEvent = "consumer.unhealthy" | "consumer.recovered";
export type AlertChannel = "email" | "webhook";

export interface AlertedStatus {
  id: string;
  alerted_status: "healthy" | "unhealthy";
}

export async function selectAlertedStatuses(
  db: Queryable,
): Promise<Map<string, AlertedStatus["alerted_status"]>> {
  const { rows } = await db.query<AlertedStatus>("select id, alerted_status from sequin_consumers");
  return new Map(rows.map((r) => [r.id, r.alerted_status]));
}

/** Moves the alerted status from `from` to `to`; true only for the one caller that made the change. */
export async function swapAlertedStatus(
  db: Queryable,
  id: string,
  from: AlertedStatus["alerted_status"],
  to: AlertedStatus["alerted_status"],
): Promise<boolean> {
  const result = await db.query(
    "update sequin_consumers set alerted_status = $3, alerted_at = now() where id = $1 and alerted_status = $2",
    [id, from, to],
  );
  return result.rowCount === 1;
}

export async function insertDelivery(
  db: Queryable,
  d: { consumerId: string; channel: AlertChannel; event: AlertEvent; payload: object },
): Promise<void> {
  await db.query(
    "insert into sequin_alert_deliveries (consumer_id, channel, event, payload) values ($1, $2, $3, $4)",
    [d.consumerId, d.channel, d.event, d.payload],
  );
}

export interface DeliveryRow {
  id: string;
  consumer_id: string;
  channel: AlertChannel;
  event: AlertEvent;
  payload: AlertPayload;
  attempts: number;
}

export interface AlertPayload {
  event: AlertEvent;
  at: string;
  consumer: {
    id: string;
    name: string;
    state: string;
    health: { status: string; notes: string[]; checks: { name: string; status: string; error?: string }[] };
    lag: { records: number; seconds: number };
  };
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
     returning id::text, consumer_id, channel, event, payload, attempts`,
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
