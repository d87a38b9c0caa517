/**
 * A consumer's health in the shared vocabulary (health.ts): its facts roll up into named checks, checks
 * into one status. A consumer is unhealthy while it waits for its target, while a write is refused, or when
 * its oldest pending change is older than the lag threshold. A consumer paused by a user is healthy, with a note saying so; so is one
 * with warnings (a filter that no sync matches, a table another consumer writes too), each a note.
 */

import { type Health, type HealthCheck, rollUp } from "../health-checks.js";
import { plural } from "../plural.js";
import { isAuthenticationFailure } from "../targets/postgres/index.js";
import type { ConsumerState } from "./consumer-lifecycle.js";

export type ConsumerCheckName = "target_reachable" | "writes_succeeding" | "lag_within_threshold";

export interface ConsumerFacts {
  state: ConsumerState;
  stateChangedAt: Date;
  targetId: string;
  targetName: string;
  /** `attempts`: failed attempts since the state began (1 for the first). */
  lastError: { message: string; sqlstate?: string; attempts?: number } | null;
  lagSeconds: number;
  lagRecords: number;
  lagThresholdSeconds: number;
  /** Things worth knowing that do not make it unhealthy (a filter no sync matches, a shared table). */
  warnings?: string[];
  /** A rewrite of the table from the stream under way (asked for, or begun by the consumer itself). */
  rewrite?: { reason: string; since: Date; done: number; total: number } | null;
}

/**
 * What ends each failing check, in words: the notes end with it, alerts list it next to the check. A wait
 * for the target ends with time, or with a new password when the target refuses the login.
 */
export function consumerFix(
  check: ConsumerCheckName,
  f: Pick<ConsumerFacts, "targetId" | "lastError">,
): string {
  switch (check) {
    case "target_reachable":
      if (f.lastError && isAuthenticationFailure(f.lastError)) {
        return (
          "The target refuses the consumer's login, so waiting alone will not end this: update the " +
          `target's password (console → Targets → Edit, or PATCH /v1/targets/postgres/${f.targetId}). The consumer ` +
          "then resumes by itself from its position."
        );
      }
      return "The consumer resumes by itself from its position when the target answers again.";
    case "writes_succeeding":
      return (
        "Fix what the target refuses (a constraint or trigger added to the table, a dropped table, a missing " +
        "privilege); the consumer retries the write with backoff and continues by itself once it succeeds."
      );
    case "lag_within_threshold":
      return (
        "The consumer keeps writing and this ends once its oldest pending change is applied; if it does not " +
        "catch up, look for what slows the target (a lock held on the table, a busy server)."
      );
  }
}

function waitingNote(f: ConsumerFacts, since: string): string {
  const waiting = `Waiting for target "${f.targetName}" since ${since}${retriesOf(f)}: ${f.lastError?.message ?? "it cannot be reached"}.`;
  return `${waiting} ${consumerFix("target_reachable", f)}`;
}

/** `, 5 retries` after the time a failure began: retries are counted, never re-dated. */
function retriesOf(f: ConsumerFacts): string {
  const retries = (f.lastError?.attempts ?? 1) - 1;
  return retries > 0 ? `, ${retries} ${retries === 1 ? "retry" : "retries"}` : "";
}

export function consumerHealth(f: ConsumerFacts, now: Date = new Date()): Health<ConsumerCheckName> {
  const since = f.stateChangedAt.toISOString();
  const checks: HealthCheck<ConsumerCheckName>[] = [];
  const notes: string[] = [];

  const unreachable = f.state === "waiting_for_target";
  checks.push({
    name: "target_reachable",
    status: unreachable ? "unhealthy" : "healthy",
    ...(unreachable && f.lastError ? { error: f.lastError.message } : {}),
  });
  if (unreachable) notes.push(waitingNote(f, since));

  const refused = f.state === "failing";
  checks.push({
    name: "writes_succeeding",
    status: refused ? "unhealthy" : "healthy",
    ...(refused && f.lastError ? { error: f.lastError.message } : {}),
  });
  if (refused) {
    notes.push(
      `Failing since ${since}${retriesOf(f)}: ${f.lastError?.message ?? "the target refuses a write"}. ` +
        consumerFix("writes_succeeding", f),
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
      `Behind: ${plural(f.lagRecords, "change")} pending, the oldest ${Math.round(f.lagSeconds)} s old (threshold ${f.lagThresholdSeconds} s).`,
    );
  }
  if (f.state === "paused") notes.push(`Paused by a user since ${since}; no lag alerts while paused.`);
  if (f.state === "inactive") notes.push("Not started yet: verify the table, then start the consumer.");
  if (f.rewrite) {
    notes.push(
      `Rewriting the table from the stream since ${f.rewrite.since.toISOString()} (${f.rewrite.reason}): ` +
        `${f.rewrite.done.toLocaleString("en-US")} of ${f.rewrite.total.toLocaleString("en-US")} records so far; live changes keep flowing.`,
    );
  }
  notes.push(...(f.warnings ?? []));

  return rollUp(checks, notes, now);
}
