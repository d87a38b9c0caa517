/**
 * What an alert says, for any kind of entity: `entity` names the kind, the entity and its status, and lists
 * the checks that fail with what ends each; the kind's own part sits under its kind's key (`consumer`,
 * `target`), so a consumer's alert reads as it always did and a new kind adds its key.
 */
import type { CheckStatus, Health } from "../../health-checks.js";

export type EntityKind = "consumer" | "target" | "sync";
export type AlertEvent = `${EntityKind}.${"unhealthy" | "recovered"}`;

/** A failing check and what ends it, in words. */
export interface FailingCheck {
  name: string;
  error?: string;
  fix: string;
}

export interface AlertedEntity {
  kind: EntityKind;
  id: string;
  name: string;
  status: CheckStatus;
  failing: FailingCheck[];
}

export interface ConsumerAlert {
  id: string;
  name: string;
  state: string;
  health: Health;
  lag: { records: number; seconds: number };
}

export interface TargetAlert {
  id: string;
  name: string;
  health: Health;
  /** every consumer that writes to the target, with its state (those it holds up: `waiting_for_target`) */
  consumers: { id: string; name: string; state: string }[];
}

export interface SyncAlert {
  id: string;
  name: string;
  provider: string;
  /** backfilling | live | paused | failing */
  state: string;
  health: Health;
}

/** The kind's own part of an alert, under the kind's key. */
export type AlertDetails = { consumer: ConsumerAlert } | { target: TargetAlert } | { sync: SyncAlert };

export type AlertPayload = {
  event: AlertEvent;
  at: string;
  entity: AlertedEntity;
} & Partial<{ consumer: ConsumerAlert; target: TargetAlert; sync: SyncAlert }>;

/**
 * The entity an alert is about. Alerts queued before alerts named their entity are about a consumer and
 * carry only its part.
 */
export function alertedEntity(payload: AlertPayload): AlertedEntity {
  if (payload.entity) return payload.entity;
  const consumer = payload.consumer!;
  return {
    kind: "consumer",
    id: consumer.id,
    name: consumer.name,
    status: consumer.health.status,
    failing: [],
  };
}
