/**
 * One health vocabulary for every entity the service runs or writes to (consumers and targets now, syncs
 * next): the entity's facts roll up into named checks, the checks into one status, and notes say in words
 * what is wrong and what ends it. Each entity has one function from its facts to its Health
 * (consumer-health.ts, target-health.ts); the API, the console, metrics and alerts read only that.
 */
export type CheckStatus = "healthy" | "unhealthy";

export interface HealthCheck<Name extends string = string> {
  name: Name;
  status: CheckStatus;
  error?: string;
}

export interface Health<Name extends string = string> {
  status: CheckStatus;
  notes: string[];
  checks: HealthCheck<Name>[];
  time: string;
}

/** A check from whether it fails, with its error only when it does. */
export function check<Name extends string>(name: Name, failing: boolean, error?: string): HealthCheck<Name> {
  return {
    name,
    status: failing ? "unhealthy" : "healthy",
    ...(failing && error !== undefined ? { error } : {}),
  };
}

/** Unhealthy when any check is. */
export function rollUp<Name extends string>(
  checks: HealthCheck<Name>[],
  notes: string[],
  now: Date,
): Health<Name> {
  const status: CheckStatus = checks.some((c) => c.status === "unhealthy") ? "unhealthy" : "healthy";
  return { status, notes, checks, time: now.toISOString() };
}
