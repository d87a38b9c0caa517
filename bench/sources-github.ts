/**
 * GitHub sources benchmark: a backfill of 50,000 records (issues, pull requests, issue comments in two
 * repositories) at the default allotment, against the minimum that allotment allows (records ÷ 100 a page
 * ÷ requests per second), and then the live latency: changes made in the emulator one a second (issue
 * edits, new comments, pull request edits), each timed until the stream holds it, at the default poll
 * interval. A real SourceWorker runs in this process on a throwaway store, against the GitHub emulator.
 *
 *   node --import tsx bench/sources-github.ts                     50,000 records, the default allotment
 *   node --import tsx bench/sources-github.ts --quick             2,000 records, 15 changes: a smoke run
 *   node --import tsx bench/sources-github.ts --records 20000 --rate 5 --changes 30
 *
 * Prints one row; exits non-zero when the stream is not exact after the changes or the allotment was
 * exceeded in some second.
 */
import type pg from "pg";
import { githubKind } from "../src/sources/github/github-kind.js";
import { type GithubEmulator, startGithubEmulator } from "../test/emulators/github/index.js";
import { githubKey } from "../test/sources/github-keys.js";
import {
  allotment,
  busiestAgainstAllotment,
  differences,
  liveLatencies,
  parseFlags,
  positiveWholeNumber,
  report,
  waitUntil,
  wholeNumber,
  withSourceBench,
} from "./source-bench.js";

const repositories = ["bench-org/api", "bench-org/web"];
const collections = ["issues", "pull_requests", "issue_comments"] as const;

/** 80% issues, 10% pull requests, 10% comments, half in each repository, made over the past days. */
function fill(emulator: GithubEmulator, total: number): Map<string, number> {
  const pulls = Math.round(total * 0.1);
  const comments = Math.round(total * 0.1);
  const issues = total - pulls - comments;
  const start = emulator.clock.nowMs() - 30 * 86_400_000;
  // one item every few seconds of history: many share nothing, some share a second
  const step = Math.floor((29 * 86_400_000) / total);
  let at = start;
  const tick = (): number => {
    at += step;
    return at;
  };
  for (const repository of repositories) emulator.createRepository(repository);
  for (let i = 0; i < issues; i++)
    emulator.createIssue(
      repositories[i % 2]!,
      { title: `Issue ${i}`, body: `Body of issue ${i}` },
      { at: tick() },
    );
  for (let i = 0; i < pulls; i++)
    emulator.createPull(repositories[i % 2]!, { title: `Change ${i}` }, { at: tick() });
  for (let i = 0; i < comments; i++)
    emulator.createComment(repositories[i % 2]!, 1 + ((i >> 1) % 500), `Comment ${i}`, { at: tick() });
  return new Map([
    ["issues", issues],
    ["pull_requests", pulls],
    ["issue_comments", comments],
  ]);
}

/** The stream's differences from GitHub's live issues, pull requests and comments of every repository. */
const differencesFrom = (store: pg.Pool, syncId: string, emulator: GithubEmulator) =>
  differences(
    store,
    syncId,
    {
      issues: repositories.flatMap((r) => emulator.issues(r)),
      pull_requests: repositories.flatMap((r) => emulator.pulls(r)),
      issue_comments: repositories.flatMap((r) => emulator.comments(r)),
    },
    githubKey,
  );

async function main(): Promise<number> {
  const flags = parseFlags(process.argv.slice(2), [
    { name: "records", default: 50_000, quickDefault: 2_000, parse: wholeNumber },
    {
      name: "rate",
      default: githubKind.defaultRequestsPerSecond,
      parse: allotment(githubKind.maxRequestsPerSecond, positiveWholeNumber),
    },
    { name: "changes", default: 60, quickDefault: 15, parse: wholeNumber },
  ]);
  const emulator = await startGithubEmulator();
  try {
    return await withSourceBench(
      "GitHub",
      () => fill(emulator, flags.records),
      async ({ store, backfill }, counts) => {
        // the minimum the allotment allows: every record once, 100 a page
        const minimumRequests = Math.ceil(flags.records / 100);
        // what GitHub's lists make us read: /issues lists pull requests too, each repository's lists end on
        // a page of their own; plus the credential check (one a repository) and the change mark (three)
        const perRepository = (n: number) =>
          repositories.length * Math.max(1, Math.ceil(n / repositories.length / 100));
        const listPages =
          perRepository(counts.get("issues")! + counts.get("pull_requests")!) +
          perRepository(counts.get("pull_requests")!) +
          perRepository(counts.get("issue_comments")!);

        const token = emulator.createToken();
        const { syncId, seconds } = await backfill({
          provider: "github",
          collections,
          config: {
            credentials: { token },
            settings: { repositories },
            base_url: emulator.baseUrl,
            max_requests_per_second: flags.rate,
          },
          records: flags.records,
        });
        const backfillRequests = emulator.requests.filter((r) => r.token === token).length;

        // live: one change a second (an issue edited, a comment added, a pull request edited), each timed
        const latencies = await liveLatencies({
          changes: flags.changes,
          pauseMs: (i) => (i === 0 ? 0 : 1000),
          make: (i) => {
            const repository = repositories[i % 2]!;
            const marker = `bench change ${i}`;
            if (i % 3 === 0) {
              const issues = emulator.issues(repository);
              const issue = emulator.updateIssue(
                repository,
                issues[(i * 7919) % issues.length]!.number as number,
                { title: marker },
              );
              return { key: githubKey(issue), field: "title", expect: marker };
            }
            if (i % 3 === 1) {
              const issues = emulator.issues(repository);
              const comment = emulator.createComment(
                repository,
                issues[(i * 104_729) % issues.length]!.number as number,
                marker,
              );
              return { key: String(comment.id), field: "body", expect: marker };
            }
            const pulls = emulator.pulls(repository);
            const number = pulls[(i * 31) % pulls.length]!.number as number;
            emulator.updatePull(repository, number, { title: marker });
            const pull = emulator.pulls(repository).find((p) => p.number === number)!;
            return { key: githubKey(pull), field: "title", expect: marker };
          },
          arrived: async (pending) => {
            const { rows } = await store.query<{
              upstream_id: string;
              title: string | null;
              body: string | null;
            }>(
              "select upstream_id, payload->>'title' as title, payload->>'body' as body from sequin_records where sync_id = $1 and upstream_id = any($2)",
              [syncId, pending.map((change) => change.key)],
            );
            const seen = new Map(rows.map((row) => [row.upstream_id, row]));
            return pending.filter((change) => {
              const row = seen.get(change.key);
              return row !== undefined && (change.field === "title" ? row.title : row.body) === change.expect;
            });
          },
          timeoutMs: 10 * 60_000,
        });
        // the issues whose comments were added changed too: let the last poll bring them in
        await waitUntil(
          "the stream to equal GitHub",
          async () => (await differencesFrom(store, syncId, emulator)) === 0,
          120_000,
        ).catch(() => {});
        const ours = emulator.requests.filter((r) => r.token === token);
        return report({
          provider: "github",
          records: flags.records,
          rate: flags.rate,
          backfill: { seconds, requests: backfillRequests, note: `${listPages} list pages` },
          minimum: {
            seconds: minimumRequests / flags.rate,
            requests: minimumRequests,
            note: `${flags.records} records ÷ 100 a page`,
          },
          latencies,
          liveNote: `poll ${githubKind.defaultPollIntervalSeconds} s, ${repositories.length} repositories × ${collections.length} collections a poll`,
          busiest: busiestAgainstAllotment(ours, flags.rate),
          more: [`304s ${ours.filter((r) => r.status === 304).length} of ${ours.length}`],
          wrong: await differencesFrom(store, syncId, emulator),
        });
      },
    );
  } finally {
    await emulator.close();
  }
}

process.exitCode = await main();
