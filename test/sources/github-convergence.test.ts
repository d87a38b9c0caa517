/**
 * Model-based convergence of a GitHub sync: the GitHub emulator is the model. fast-check draws a sequence of
 * steps — issues, pull requests and comments created, changed and deleted, issues moved between the sync's
 * repositories or out of them, more than a page of issues changed within one second, bursts on one issue,
 * changes that show in lists late, injected 500s, HTML 502s, secondary limits and cut connections, and
 * kill -9 of the worker process at a step boundary (a new one starts) — while the backfill runs and after.
 * Once quiet, every live object is in the stream as GitHub shows it now, through the change feeds alone;
 * a sweep later, the stream equals GitHub exactly, nothing extra (deleted or moved away), nothing stale;
 * and the allotment held in every one-second window GitHub saw.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { busiestWindow, type FaultKind, startGithubEmulator } from "../emulators/github/index.js";
import { githubKey } from "./github-keys.js";
import {
  createModelStore,
  createPulledSync,
  faultStep,
  killStep,
  runSharedStep,
  type SharedStep,
  startSourceWorker,
  streamDifference,
  waitStep,
  waitStreamEquals,
} from "./source-model.js";

const model = await createModelStore();
const emulator = await startGithubEmulator();
const allotment = 15;
const collections = ["issues", "pull_requests", "issue_comments"];
/** Two drawn sequences under `npm test`; github-convergence.chaos.test.ts asks for more. */
const runs = Number(process.env.GITHUB_CONVERGENCE_RUNS ?? 2);

type Step =
  | { kind: "issue"; repo: number }
  | { kind: "edit"; pick: number }
  | { kind: "delete"; pick: number }
  | { kind: "transfer"; pick: number; out: boolean }
  | { kind: "pull"; repo: number }
  | { kind: "editPull"; pick: number; merge: boolean }
  | { kind: "comment"; pick: number }
  | { kind: "editComment"; pick: number }
  | { kind: "deleteComment"; pick: number }
  | { kind: "ties"; count: number }
  | { kind: "burst"; pick: number; times: number }
  | { kind: "late"; pick: number; ms: number }
  | SharedStep<FaultKind>;

const repo = fc.integer({ min: 0, max: 1 });
const pick = fc.nat();
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("issue" as const), repo }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("edit" as const), pick }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("delete" as const), pick }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("transfer" as const), pick, out: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("pull" as const), repo }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("editPull" as const), pick, merge: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("comment" as const), pick }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("editComment" as const), pick }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("deleteComment" as const), pick }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("ties" as const), count: fc.integer({ min: 101, max: 140 }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("burst" as const),
      pick,
      times: fc.integer({ min: 2, max: 6 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("late" as const),
      pick,
      ms: fc.integer({ min: 200, max: 1500 }),
    }),
  },
  faultStep<FaultKind>(["server_error", "bad_gateway", "secondary_limit", "destroy"]),
  killStep,
  waitStep(300),
);

/**
 * What differs between the stream and GitHub's live objects; with `extrasAllowed`, records GitHub no longer
 * has are not counted (only the sweep can find those).
 */
function difference(syncId: string, repositories: string[], extrasAllowed = false) {
  const live = {
    issues: repositories.flatMap((r) => emulator.issues(r)),
    pull_requests: repositories.flatMap((r) => emulator.pulls(r)),
    issue_comments: repositories.flatMap((r) => emulator.comments(r)),
  };
  return streamDifference(model.store.pool, syncId, live, {
    where: "on GitHub",
    extrasAllowed,
    idOf: githubKey,
  });
}

let run = 0;

test("random changes, ties, late changes, faults and kill -9s during and after the backfill: the stream equals GitHub", async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(step, { minLength: 20, maxLength: 35 }), async (steps) => {
      await oneRun(steps);
    }),
    { numRuns: runs, endOnFailure: true },
  );
});
/** One drawn sequence: two fresh repositories, a sync of them, the steps, then the stream compared. */
async function oneRun(steps: Step[]): Promise<void> {
  {
    run += 1;
    const repositories = [`model-${run}/api`, `model-${run}/web`];
    const elsewhere = `model-${run}/elsewhere`;
    for (const r of [...repositories, elsewhere]) emulator.createRepository(r);
    for (let i = 0; i < 140; i++) emulator.createIssue(repositories[i % 2]!, { title: `r${run} i${i}` });
    for (let i = 0; i < 8; i++) emulator.createPull(repositories[i % 2]!, { title: `r${run} p${i}` });
    for (let i = 0; i < 20; i++) emulator.createComment(repositories[0]!, 1 + 2 * (i % 10), `c${i}`);
    const token = emulator.createToken();
    const sync = await createPulledSync(model, {
      name: `github-model-${run}`,
      provider: "github",
      collections,
      source: {
        credentials: { token },
        settings: { repositories, sweep_interval_hours: 15 / 3600, lookback_seconds: 2 },
        base_url: emulator.baseUrl,
        max_requests_per_second: allotment,
        poll_interval_seconds: 0.2,
      },
    });
    const worker = await startSourceWorker(model);
    const issuesOf = () =>
      repositories.flatMap((r) => emulator.issues(r).map((issue) => ({ r, n: issue.number as number })));
    const pullsOf = () =>
      repositories.flatMap((r) => emulator.pulls(r).map((p) => ({ r, n: p.number as number })));
    const commentsOf = () =>
      repositories.flatMap((r) => emulator.comments(r).map((c) => ({ r, id: c.id as number })));
    const nth = <T>(list: T[], n: number): T | undefined =>
      list.length > 0 ? list[n % list.length] : undefined;
    try {
      for (const s of steps) {
        switch (s.kind) {
          case "issue":
            emulator.createIssue(repositories[s.repo]!, { title: "new" });
            break;
          case "edit": {
            const at = nth(issuesOf(), s.pick);
            if (at)
              emulator.updateIssue(at.r, at.n, {
                title: `e${s.pick}`,
                state: s.pick % 3 ? "open" : "closed",
              });
            break;
          }
          case "delete": {
            const at = nth(issuesOf(), s.pick);
            if (at) emulator.deleteIssue(at.r, at.n);
            break;
          }
          case "transfer": {
            const at = nth(issuesOf(), s.pick);
            if (at)
              emulator.transferIssue(at.r, at.n, s.out ? elsewhere : repositories.find((r) => r !== at.r)!);
            break;
          }
          case "pull":
            emulator.createPull(repositories[s.repo]!, { title: "new pull" });
            break;
          case "editPull": {
            const at = nth(pullsOf(), s.pick);
            if (at) emulator.updatePull(at.r, at.n, s.merge ? { merged: true } : { title: `pe${s.pick}` });
            break;
          }
          case "comment": {
            const at = nth(issuesOf(), s.pick);
            if (at) emulator.createComment(at.r, at.n, `new ${s.pick}`);
            break;
          }
          case "editComment": {
            const at = nth(commentsOf(), s.pick);
            if (at) emulator.updateComment(at.r, at.id, `edited ${s.pick}`);
            break;
          }
          case "deleteComment": {
            const at = nth(commentsOf(), s.pick);
            if (at) emulator.deleteComment(at.r, at.id);
            break;
          }
          case "ties": {
            // more than a page of one repository's issues changed within one second
            const second = Math.floor(emulator.clock.nowMs() / 1000) * 1000;
            for (const issue of emulator.issues(repositories[0]!).slice(0, s.count))
              emulator.updateIssue(
                repositories[0]!,
                issue.number as number,
                { body: `tie ${run}` },
                { at: second },
              );
            break;
          }
          case "burst": {
            const at = nth(issuesOf(), s.pick);
            for (let i = 0; at && i < s.times; i++) emulator.updateIssue(at.r, at.n, { body: `burst ${i}` });
            break;
          }
          case "late": {
            const at = nth(issuesOf(), s.pick);
            emulator.setVisibilityDelay(s.ms);
            if (at) emulator.updateIssue(at.r, at.n, { title: `late ${s.ms}` });
            emulator.setVisibilityDelay(0);
            break;
          }
          default:
            await runSharedStep(s, { faults: emulator.faults, worker });
        }
      }
      emulator.faults.clear();
      // first the changes, through the change feeds alone (the first sweep is due 15 s after the start)
      await waitStreamEquals(
        "every live object of GitHub in the stream, as it is now",
        () => difference(sync.id, repositories, true),
        10_000,
      );
      // then the deletes, which only a sweep sees
      await waitStreamEquals("the stream to equal GitHub", () => difference(sync.id, repositories));
    } finally {
      await worker.stop();
    }
    const ours = emulator.requests.filter((r) => r.token === token);
    assert.ok(busiestWindow(ours, 1000) <= allotment, `busiest second: ${busiestWindow(ours, 1000)}`);
  }
}
