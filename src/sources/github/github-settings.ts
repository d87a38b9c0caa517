/**
 * A GitHub sync's settings: the repositories it pulls (`owner/name`, at least one), how often it sweeps for
 * deleted issues and comments (GitHub lists no deletes, so only reading everything again shows them), and how
 * far back each poll looks again (GitHub stamps changes in whole seconds, and a change may show in a list a
 * moment after its stamp).
 */

export interface GithubSettings {
  repositories: string[];
  /** Hours between two sweeps (a full read that deletes what is gone). */
  sweepIntervalHours: number;
  /** Seconds each poll reads again before the newest change it has seen. */
  lookbackSeconds: number;
}

export const defaultSweepIntervalHours = 24;
export const defaultLookbackSeconds = 5;
const maxRepositories = 100;
const repositoryPattern = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})\/[A-Za-z0-9._-]{1,100}$/;

/** A message per bad field (for `checkSettings`), empty when the settings are good. */
export function checkGithubSettings(settings: Record<string, unknown>): Record<string, string> {
  const problems: Record<string, string> = {};
  const repositories = settings.repositories;
  if (!Array.isArray(repositories) || repositories.length === 0)
    problems.repositories = 'is required: a list of repositories as "owner/name", e.g. ["octo-org/api"]';
  else if (repositories.length > maxRepositories)
    problems.repositories = `may name at most ${maxRepositories} repositories (one sync per group of them)`;
  else {
    const seen = new Set<string>();
    repositories.forEach((repository, i) => {
      if (typeof repository !== "string" || !repositoryPattern.test(repository) || repository.endsWith("/."))
        problems[`repositories[${i}]`] =
          `must be "owner/name" (letters, digits, "-" in the owner; also "." and "_" in the name), not ${JSON.stringify(repository)}`;
      else if (seen.has(repository.toLowerCase()))
        problems[`repositories[${i}]`] = `names ${repository} a second time`;
      else seen.add(repository.toLowerCase());
    });
  }
  const sweep = settings.sweep_interval_hours;
  if (sweep !== undefined && !(typeof sweep === "number" && sweep > 0 && sweep <= 24 * 30))
    problems.sweep_interval_hours = "must be a number of hours above 0 and at most 720 (30 days)";
  const lookback = settings.lookback_seconds;
  if (lookback !== undefined && !(typeof lookback === "number" && lookback >= 0 && lookback <= 3600))
    problems.lookback_seconds = "must be a number of seconds from 0 to 3600";
  for (const field of Object.keys(settings))
    if (!["repositories", "sweep_interval_hours", "lookback_seconds"].includes(field))
      problems[field] = "is not a GitHub setting (repositories, sweep_interval_hours, lookback_seconds)";
  return problems;
}

/** The settings of a stored sync (checked when it was saved). */
export function readGithubSettings(settings: Record<string, unknown>): GithubSettings {
  return {
    repositories: (settings.repositories as string[] | undefined) ?? [],
    sweepIntervalHours: (settings.sweep_interval_hours as number | undefined) ?? defaultSweepIntervalHours,
    lookbackSeconds: (settings.lookback_seconds as number | undefined) ?? defaultLookbackSeconds,
  };
}
