/**
 * A target's health in the shared vocabulary: unhealthy while any consumer waits for it (the consumers'
 * probes and writes are what find a target unreachable; the consumers' health says since when and why).
 */

import { check, type Health, rollUp } from "../health-checks.js";
import { plural } from "../plural.js";
import { isAuthenticationFailure } from "./postgres/index.js";

export interface TargetFacts {
  /** Consumers that write to the target. */
  consumers: number;
  /** Those of them waiting for it to be reachable again. */
  waiting: number;
  /** What the latest of the waiting consumers saw, when known: the check's error. */
  lastError?: { message: string; sqlstate?: string } | null;
}

export type TargetCheckName = "reachable";

export function targetHealth(f: TargetFacts, now: Date = new Date()): Health<TargetCheckName> {
  const unreachable = f.waiting > 0;
  const waiting = `${plural(f.waiting, "consumer")} ${f.waiting === 1 ? "is" : "are"} waiting for this target to be reachable again.`;
  return rollUp([check("reachable", unreachable, f.lastError?.message)], unreachable ? [waiting] : [], now);
}

/** What ends a failing check of the target, in words (alerts list it next to the check). */
export function targetFix(_check: TargetCheckName, f: TargetFacts, targetId: string): string {
  if (f.lastError && isAuthenticationFailure(f.lastError)) {
    return (
      "The target refuses its user's login, so waiting alone will not end this: update the target's " +
      `password (console → Targets → Edit, or PATCH /v1/targets/postgres/${targetId}). Its consumers then ` +
      "resume by themselves from their positions."
    );
  }
  return (
    "Bring the server back or restore the network path to it; its consumers probe it with backoff and " +
    "resume by themselves from their positions when it answers again."
  );
}
