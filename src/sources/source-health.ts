/**
 * A sync's health, from the facts its runner recorded, in the vocabulary consumers and targets use
 * (health-checks.ts): the API, the console, metrics and alerts read only this.
 *
 * - `credential`: the provider refuses the credential (revoked, wrong, missing a permission).
 * - `provider`: the provider cannot be asked usably (down, throttling us for too long, answering nonsense).
 * - `records`: an object the stream refuses (too large, a bad id).
 * - `behind`: changes have not been polled for a long while although the sync runs (no worker runs it, or
 *   its worker is stuck): at least a minute, and twenty poll intervals.
 */
import { check, type Health, rollUp } from "../health-checks.js";
import type { SourceError } from "./source-queries.js";

export type SyncCheckName = "credential" | "provider" | "records" | "behind";

export interface SyncHealthFacts {
  paused: boolean;
  lastError: SourceError | null;
  failingSince: string | null;
  /** When changes were last polled (the oldest of the collections), or null before the first poll. */
  lastPolledAt: string | null;
  /** When the source was created: "behind" counts from then before the first poll. */
  createdAt: string;
  pollIntervalSeconds: number;
  rebackfill: string | null;
}

const errorKinds: Record<Exclude<SyncCheckName, "behind">, readonly string[]> = {
  credential: ["refused"],
  provider: ["unavailable", "invalid_answer"],
  records: ["invalid_record"],
};

/** How long without a poll before a running sync is behind. */
export function behindAfterSeconds(pollIntervalSeconds: number): number {
  return Math.max(60, 20 * pollIntervalSeconds);
}

export function syncHealth(facts: SyncHealthFacts, now: Date = new Date()): Health<SyncCheckName> {
  const error = facts.lastError;
  const failingAs = (name: Exclude<SyncCheckName, "behind">) =>
    check(name, error !== null && errorKinds[name].includes(error.kind), error?.message);
  const since = Date.parse(facts.lastPolledAt ?? facts.createdAt);
  const quietSeconds = Math.max(0, (now.getTime() - since) / 1000);
  const behind =
    !facts.paused && error === null && quietSeconds > behindAfterSeconds(facts.pollIntervalSeconds);
  const checks = [
    failingAs("credential"),
    failingAs("provider"),
    failingAs("records"),
    check("behind", behind, `changes not polled for ${Math.round(quietSeconds)} s`),
  ];
  const notes: string[] = [];
  if (facts.paused)
    notes.push("Paused: the provider is not asked; resume to pull again from where it stopped.");
  if (error) {
    const retries = (error.attempts ?? 1) - 1;
    notes.push(
      `Failing since ${facts.failingSince ?? error.at}${retries > 0 ? `, ${retries} retries` : ""}: ${error.message}`,
    );
  }
  if (facts.rebackfill) notes.push(`Reading everything again: ${facts.rebackfill}.`);
  if (behind) notes.push(`Changes not polled for ${Math.round(quietSeconds)} s: is a worker running?`);
  return rollUp(checks, notes, now);
}

/** What ends a failing check, in words. */
export function syncFix(name: SyncCheckName): string {
  switch (name) {
    case "credential":
      return "give the sync a credential the provider accepts (a restricted key needs read access to its collections and to events); it retries by itself";
    case "provider":
      return "check the provider's status and the sync's base_url; the sync retries with backoff and resumes where it stopped";
    case "records":
      return "the provider sent an object the stream refuses (see the error); the sync retries the page";
    case "behind":
      return "check that a worker process runs (GET /v1/workers) and its logs";
  }
}
