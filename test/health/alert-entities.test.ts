/**
 * What the alert round watches, from one statistics read: each target's health derived from its consumers,
 * the consumers waiting for it left to the target's alert, and every failing check with what ends it (a
 * refused login says to update the target's password, once, for the target).
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { test } from "node:test";
import { consumerHealth } from "../../src/consumer/consumer-health.js";
import type { ConsumerStatistics, ConsumerView } from "../../src/consumer/index.js";
import { alertEntities } from "../../src/health/alerts/index.js";

type State = ConsumerView["state"];

/** The part of a consumer's view alerts read, its health from the real health function. */
function statistics(
  name: string,
  target: { id: string; name: string; alerted: "healthy" | "unhealthy" },
  state: State,
  options: { lastError?: { message: string; sqlstate?: string; at: string }; lagSeconds?: number } = {},
): ConsumerStatistics {
  const lastError = options.lastError ?? null;
  const health = consumerHealth({
    state,
    stateChangedAt: new Date("2026-11-25T14:00:00Z"),
    targetId: target.id,
    targetName: target.name,
    lastError,
    lagSeconds: options.lagSeconds ?? 0,
    lagRecords: options.lagSeconds ? 5 : 0,
    lagThresholdSeconds: 300,
  });
  const view = {
    id: randomUUID(),
    name,
    target_id: target.id,
    state,
    health,
    lag: { records: options.lagSeconds ? 5 : 0, seconds: options.lagSeconds ?? 0 },
    last_error: lastError,
  } as ConsumerView;
  return { view, alerted: "healthy", target };
}

test("a target's health from its consumers; those waiting for it are its alert's, not their own", () => {
  const app = { id: randomUUID(), name: "app", alerted: "healthy" as const };
  const reports = { id: randomUUID(), name: "reports", alerted: "unhealthy" as const };
  const refused = 'target unreachable: password authentication failed for user "sequin"';
  const stats = [
    statistics("orders", app, "waiting_for_target", {
      lastError: { message: "target unreachable: connection refused", at: "2026-11-25T14:00:01Z" },
    }),
    statistics("tickets", app, "waiting_for_target", {
      lastError: { message: refused, sqlstate: "28P01", at: "2026-11-25T14:00:05Z" },
    }),
    statistics("paused", app, "paused"),
    statistics("daily", reports, "live", { lagSeconds: 900 }),
  ];
  const entities = alertEntities(stats);

  assert.deepEqual(
    entities.map((e) => `${e.kind}:${e.name}:${e.health.status}`),
    ["consumer:paused:healthy", "consumer:daily:unhealthy", "target:app:unhealthy", "target:reports:healthy"],
    "the waiting consumers are left to their target",
  );

  const target = entities.find((e) => e.name === "app")!;
  assert.equal(target.alerted, "healthy");
  assert.deepEqual(target.health.notes, ["2 consumers are waiting for this target to be reachable again."]);
  assert.equal(target.failing.length, 1);
  assert.equal(target.failing[0]!.name, "reachable");
  assert.equal(target.failing[0]!.error, refused, "the error the latest waiting consumer saw");
  assert.match(target.failing[0]!.fix, /update the target's password/);
  assert.match(target.failing[0]!.fix, new RegExp(`PATCH /v1/targets/postgres/${app.id}`));
  assert.ok("target" in target.details);
  assert.deepEqual(
    target.details.target.consumers.map((c) => [c.name, c.state]),
    [
      ["orders", "waiting_for_target"],
      ["tickets", "waiting_for_target"],
      ["paused", "paused"],
    ],
  );

  // a target whose consumers came back recovers, from the status it last alerted about
  const back = entities.find((e) => e.name === "reports")!;
  assert.deepEqual([back.alerted, back.failing], ["unhealthy", []]);

  const lagging = entities.find((e) => e.name === "daily")!;
  assert.deepEqual(
    lagging.failing.map((f) => f.name),
    ["lag_within_threshold"],
  );
  assert.match(lagging.failing[0]!.fix, /oldest pending change is applied/);
  assert.ok("consumer" in lagging.details);
  assert.equal(lagging.details.consumer.state, "live");
});
