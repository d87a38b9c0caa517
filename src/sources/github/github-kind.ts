/**
 * GitHub as a provider: the collections we pull (the list endpoint each comes from), the defaults, the
 * credential's field and the settings (which repositories, how often deletes are swept). Facts:
 * docs/sources/github.md.
 */
import { createHash } from "node:crypto";
import type { SourceKind } from "../source.js";
import {
  checkGithubSettings,
  defaultLookbackSeconds,
  defaultSweepIntervalHours,
  readGithubSettings,
} from "./github-settings.js";

/** The collections, by the names records carry. */
export const githubCollections = ["issues", "pull_requests", "issue_comments"] as const;

export type GithubCollection = (typeof githubCollections)[number];

export function isGithubCollection(name: string): name is GithubCollection {
  return (githubCollections as readonly string[]).includes(name);
}

export const githubKind: SourceKind = {
  provider: "github",
  label: "GitHub",
  credentialChoices: [
    {
      id: "token",
      label: "Personal access token",
      fields: [
        {
          field: "token",
          label: "Personal access token",
          secret: true,
          required: true,
          placeholder: "github_pat_… or ghp_…",
          hint: "A fine-grained token with read access to Issues and Pull requests of the repositories below (or a classic token with the repo scope). Tried before the sync is saved; encrypted at rest, never shown again.",
        },
      ],
    },
  ],
  collections: githubCollections,
  defaultBaseUrl: "https://api.github.com",
  // a personal access token may make 5,000 requests an hour: one a second (3,600) leaves room for its other uses
  defaultRequestsPerSecond: 1,
  // GitHub's secondary limit: at most 900 points a minute per REST endpoint (a GET costs one), i.e. 15 a second
  maxRequestsPerSecond: 15,
  // each poll asks once per repository and collection; 304s answer unchanged ones without spending the quota
  defaultPollIntervalSeconds: 5,
  settingFields: [
    {
      field: "repositories",
      label: "Repositories",
      type: "list",
      required: true,
      placeholder: "octo-org/api\nocto-org/web",
      hint: "The repositories to pull, as owner/name, one per line (at most 100). The token must be able to read them.",
    },
    {
      field: "sweep_interval_hours",
      label: "Delete sweep interval (hours)",
      type: "number",
      placeholder: String(defaultSweepIntervalHours),
      hint: `GitHub lists no deletes: every this many hours everything is read again and what is gone is deleted; empty: ${defaultSweepIntervalHours}.`,
    },
    {
      field: "lookback_seconds",
      label: "Look-back (seconds)",
      type: "number",
      placeholder: String(defaultLookbackSeconds),
      hint: `Each poll reads again this far behind the newest change seen (GitHub stamps changes in whole seconds); empty: ${defaultLookbackSeconds}.`,
    },
  ],
  checkSettings: checkGithubSettings,
  rereadAfter(before, after) {
    const kept = new Set(readGithubSettings(after).repositories.map((r) => r.toLowerCase()));
    const removed = readGithubSettings(before).repositories.filter((r) => !kept.has(r.toLowerCase()));
    return removed.length > 0 ? `repositories taken out of the sync: ${removed.join(", ")}` : undefined;
  },
  checkCredentials(credentials) {
    const problems: Record<string, string> = {};
    const token = credentials.token;
    if (typeof token !== "string" || token.length === 0)
      problems.token = "is required: a GitHub personal access token";
    else if (!/^[A-Za-z0-9_]{20,255}$/.test(token))
      problems.token =
        "must be a GitHub token (github_pat_…, ghp_… or another GitHub token: letters, digits and _)";
    for (const field of Object.keys(credentials))
      if (field !== "token") problems[field] = "is not a GitHub credential field";
    return problems;
  },
  fingerprint(credentials) {
    return `github:${createHash("sha256").update(String(credentials.token)).digest("hex").slice(0, 16)}`;
  },
};
