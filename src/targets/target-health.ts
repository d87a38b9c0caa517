/**
 * A target's health in the shared vocabulary: unhealthy while any consumer waits for it (the consumers'
 * probes and writes are what find a target unreachable; the consumers' health says since when and why).
 */

import { check, type Health, rollUp } from "../health-checks.js";
import { plural } from "../plural.js";

export interface TargetFacts {
  /** Consumers that write to the target. */
  consumers: number;
  /** Those of them waiting for it to be reachable again. */
  waiting: number;
}

export type TargetCheckName = "reachable";

export function targetHealth(f: TargetFacts, now: Date = new Date()): Health<TargetCheckName> {
  const unreachable = f.waiting > 0;
  const waiting = `${plural(f.waiting, "consumer")} ${f.waiting === 1 ? "is" : "are"} waiting for this target to be reachable again.`;
  return rollUp([check("reachable", unreachable)], unreachable ? [waiting] : [], now);
}
