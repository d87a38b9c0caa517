/** GitHub's entry in the providers' map (source-kinds.ts): its kind, rules, session and source. */
import type { SourceFactory } from "../source-kinds.js";
import { githubKind } from "./github-kind.js";
import { githubRules } from "./github-rules.js";
import { GithubSource } from "./github-source.js";

export const githubFactory: SourceFactory = {
  kind: githubKind,
  rules: githubRules,
  session: ({ credentials }) => ({
    headers: () => ({
      authorization: `Bearer ${String(credentials.token)}`,
      accept: "application/vnd.github+json",
      "x-github-api-version": "2022-11-28",
    }),
  }),
  build: (http, { settings }) => new GithubSource(http, settings),
};
