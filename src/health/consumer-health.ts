/**
 * One health vocabulary: an entity's facts roll up into named checks, checks into one status. A consumer
 * is unhealthy while it waits for its target, while a write is refused, or when its oldest pending change
 * is older than the lag threshold. A consumer paused by a user is healthy, with a note saying so.
 */
import type { ConsumerState } from "../consumer/consumer-lifecycle.js";

export type CheckStatus = "healthy" | "unhealthy";

export interface HealthCheck {
  name: "target_reachable" | "writes_succeeding" | "lag_within_threshold";
  status: CheckStatus;
  error?: string;
}

export interface Health {
  status: CheckStatus;
  notes: string[];
  checks: HealthCheck[];
  time: string;
}

export interface ConsumerFacts {
  state: ConsumerState;
  stateChangedAt: Date;
  targetName: string;
  /** `attempts`: failed attempts since the state began (1 for the first). */
  lastError: { message: string; sqlstate?: string; attempts?: number } | null;
  lagSeconds: number;
  lagRecords: number;
  lagThresholdSeconds: number;
}

/** `, 5 retries` after the time a failure began: retries are counted, never re-dated. */
function retriesOf(f: ConsumerFacts): string {
  const retries = (f.lastError?.attempts ?? 1) - 1;
  return retries > 0 ? `, ${retries} ${retries === 1 ? "retry" : "retries"}` : "";
}

export function consumerHealth(f: ConsumerFacts, now: Date = new Date()): Health {
  const since = f.stateChangedAt.toISOString();
  const checks: HealthCheck[] = [];
  const notes: string[] = [];

  const unreachable = f.state === "waiting_for_target";
  checks.push({
    name: "target_reachable",
    status: unreachable ? "unhealthy" : "healthy",
    ...(unreachable && f.lastError ? { error: f.lastError.message } : {}),
  });
  if (unreachable) {
    notes.push(
      `Waiting for target "${f.targetName}" since ${since}${retriesOf(f)}: ${f.lastError?.message ?? "it cannot be reached"}. ` +
        "The consumer resumes by itself from its position when the target answers again.",
    );
  }

  const refused = f.state === "failing";
  checks.push({
    name: "writes_succeeding",
    status: refused ? "unhealthy" : "healthy",
    ...(refused && f.lastError ? { error: f.lastError.message } : {}),
  });
  if (refused) {
    notes.push(
      `Failing since ${since}${retriesOf(f)}: ${f.lastError?.message ?? "the target refuses a write"}. ` +
        "Fix the table (constraints, triggers, privileges; see docs/errors.md); the consumer retries with backoff and continues by itself.",
    );
  }

  const paused = f.state === "paused" || f.state === "inactive";
  const behind = !paused && f.lagSeconds > f.lagThresholdSeconds;
  checks.push({
    name: "lag_within_threshold",
    status: behind ? "unhealthy" : "healthy",
    ...(behind
      ? {
          error: `oldest pending change is ${Math.round(f.lagSeconds)} s old (threshold ${f.lagThresholdSeconds} s)`,
        }
      : {}),
  });
  if (behind) {
    notes.push(
      `Behind: ${f.lagRecords} change(s) pending, the oldest ${Math.round(f.lagSeconds)} s old (threshold ${f.lagThresholdSeconds} s).`,
    );
  }
  if (f.state === "paused") notes.push(`Paused by a user since ${since}; no lag alerts while paused.`);
  if (f.state === "inactive") notes.push("Not started yet: verify the table, then start the consumer.");

  const status: CheckStatus = checks.some((c) => c.status === "unhealthy") ? "unhealthy" : "healthy";
  return { status, notes, checks, time: now.toISOString() };
}
