/**
 * The entities alerts watch, from one statistics read: every consumer, and every target with consumers,
 * its health derived from theirs (no read of its own). A consumer waiting for its target is left out: the
 * target's alert speaks for it and names it, so an outage of a target with 5 consumers is told once, not
 * 6 times. Its own alerted status stays as it was until it stops waiting, so its next alert, either way,
 * tells a change of its own. A new kind of entity adds its own function here.
 */
import type { ConsumerCheckName, ConsumerStatistics, ConsumerView } from "../../consumer/index.js";
import { consumerFix } from "../../consumer/index.js";
import type { CheckStatus, Health } from "../../health-checks.js";
import { type SyncCheckName, type SyncStatistics, syncFix } from "../../sources/index.js";
import { type TargetCheckName, targetFix, targetHealth } from "../../targets/index.js";
import type { AlertDetails, EntityKind, FailingCheck } from "./alert-payload.js";

export interface AlertEntity {
  kind: EntityKind;
  id: string;
  name: string;
  health: Health;
  /** The status it last alerted about. */
  alerted: CheckStatus;
  failing: FailingCheck[];
  details: AlertDetails;
}

export function alertEntities(statistics: ConsumerStatistics[], now: Date = new Date()): AlertEntity[] {
  const consumers = statistics
    .filter((s) => s.view.state !== "waiting_for_target")
    .map((s) => consumerEntity(s.view, s.alerted));
  return [...consumers, ...targetEntities(statistics, now)];
}

/** Each sourced sync, from its own statistics row. */
export function syncEntities(statistics: SyncStatistics[]): AlertEntity[] {
  return statistics.map((s) => ({
    kind: "sync",
    id: s.id,
    name: s.name,
    health: s.health,
    alerted: s.alerted,
    failing: s.health.checks
      .filter((c) => c.status === "unhealthy")
      .map((c) => ({
        name: c.name,
        ...(c.error !== undefined ? { error: c.error } : {}),
        fix: syncFix(c.name as SyncCheckName),
      })),
    details: { sync: { id: s.id, name: s.name, provider: s.provider, state: s.state, health: s.health } },
  }));
}

function consumerEntity(view: ConsumerView, alerted: CheckStatus): AlertEntity {
  const failing = view.health.checks
    .filter((c) => c.status === "unhealthy")
    .map((c) => ({
      name: c.name,
      ...(c.error !== undefined ? { error: c.error } : {}),
      fix: consumerFix(c.name as ConsumerCheckName, { targetId: view.target_id, lastError: view.last_error }),
    }));
  return {
    kind: "consumer",
    id: view.id,
    name: view.name,
    health: view.health,
    alerted,
    failing,
    details: {
      consumer: { id: view.id, name: view.name, state: view.state, health: view.health, lag: view.lag },
    },
  };
}

/** Each target's health from its consumers, grouped in one pass. */
function targetEntities(statistics: ConsumerStatistics[], now: Date): AlertEntity[] {
  const byTarget = new Map<
    string,
    { target: NonNullable<ConsumerStatistics["target"]>; views: ConsumerView[] }
  >();
  for (const s of statistics) {
    if (!s.target) continue;
    const group = byTarget.get(s.target.id) ?? { target: s.target, views: [] };
    group.views.push(s.view);
    byTarget.set(s.target.id, group);
  }
  return [...byTarget.values()].map(({ target, views }) => {
    const waiting = views.filter((v) => v.state === "waiting_for_target");
    const facts = { consumers: views.length, waiting: waiting.length, lastError: latestError(waiting) };
    const health = targetHealth(facts, now);
    const failing = health.checks
      .filter((c) => c.status === "unhealthy")
      .map((c) => ({
        name: c.name,
        ...(c.error !== undefined ? { error: c.error } : {}),
        fix: targetFix(c.name as TargetCheckName, facts, target.id),
      }));
    return {
      kind: "target",
      id: target.id,
      name: target.name,
      health,
      alerted: target.alerted,
      failing,
      details: {
        target: {
          id: target.id,
          name: target.name,
          health,
          consumers: views.map((v) => ({ id: v.id, name: v.name, state: v.state })),
        },
      },
    };
  });
}

/** The error the most recent of the waiting consumers saw. */
function latestError(waiting: ConsumerView[]): { message: string; sqlstate?: string } | null {
  let latest: ConsumerView["last_error"] = null;
  for (const v of waiting) {
    if (v.last_error && (!latest || v.last_error.at > latest.at)) latest = v.last_error;
  }
  return latest
    ? { message: latest.message, ...(latest.sqlstate ? { sqlstate: latest.sqlstate } : {}) }
    : null;
}
