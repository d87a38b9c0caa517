/**
 * The GitHub source against the emulator, without the service: how its walks behave where other tools broke.
 * Ties beyond a page (a bulk edit stamps hundreds of issues with one second) end, complete; pull requests,
 * which have no `since`, are read down to the bookmark and no further (tap-github PR #49); a feed whose
 * whole page is skipped (pull requests inside `/issues`) still moves its bookmark (tap-github PR #58: it
 * reloaded forever); a change that shows in lists late is still read; items updated while pages are read
 * shift no page (no issue skipped); GitHub's quota spent is a failure that names the reset and asks
 * nothing meanwhile, then pulling resumes; a secondary limit is waited out.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Allotment } from "../../src/sources/allotment.js";
import { githubRules } from "../../src/sources/github/github-rules.js";
import { GithubSource } from "../../src/sources/github/github-source.js";
import { ProviderError, ProviderHttp } from "../../src/sources/provider-http.js";
import type { ChangesPage } from "../../src/sources/source.js";
import { startGithubEmulator } from "../emulators/github/index.js";
import { githubKey } from "./github-keys.js";

const emulator = await startGithubEmulator();
let repositories = 0;

function sourceFor(
  repository: string,
  options: { token?: string; longPauseMs?: number; lookback?: number } = {},
) {
  const token = options.token ?? emulator.createToken();
  const http = new ProviderHttp({
    provider: githubRules,
    baseUrl: emulator.baseUrl,
    headers: () => ({ authorization: `Bearer ${token}` }),
    allotment: new Allotment(100),
    backoff: { initialMs: 50, maxMs: 200 },
    ...(options.longPauseMs !== undefined ? { longPauseMs: options.longPauseMs } : {}),
  });
  return {
    token,
    source: new GithubSource(http, { repositories: [repository], lookback_seconds: options.lookback ?? 2 }),
  };
}

function newRepository(): string {
  const name = `octo-org/repo-${++repositories}`;
  emulator.createRepository(name);
  return name;
}

/** Every change after `cursor` until none is waiting: the records by collection, the cursor after them. */
async function drain(source: GithubSource, cursor: unknown, collections: string[]) {
  const seen = new Map<string, Map<string, unknown>>();
  let pages = 0;
  for (;;) {
    const page: ChangesPage = await source.changesSince(cursor, collections);
    if ("expired" in page) throw new Error(page.expired);
    pages += 1;
    assert.ok(pages < 50, "the changes end");
    for (const r of page.records) {
      if (!seen.has(r.collection_id)) seen.set(r.collection_id, new Map());
      seen.get(r.collection_id)!.set(r.upstream_id, r.payload);
    }
    cursor = page.cursor;
    if (!page.more) return { seen, cursor, pages };
  }
}

test("ties beyond a page: 250 issues changed within one second are all read, and the walk ends", async () => {
  const repository = newRepository();
  for (let i = 0; i < 260; i++) emulator.createIssue(repository, { title: `t${i}` });
  const { source } = sourceFor(repository);
  const mark = await source.changeMark();
  // one second for all 250: its start, already past, so every change is listed at once
  const at = Math.floor(emulator.clock.nowMs() / 1000) * 1000;
  const changed = emulator.issues(repository).slice(0, 250);
  for (const issue of changed)
    emulator.updateIssue(repository, issue.number as number, { title: "bulk" }, { at });
  const { seen } = await drain(source, mark, ["issues"]);
  const issues = seen.get("issues")!;
  for (const issue of changed)
    assert.deepEqual(
      issues.get(githubKey(issue)),
      emulator.issues(repository).find((i) => i.id === issue.id),
    );
});

test("pull requests: updated-descending down to the bookmark, not every page (tap-github PR #49)", async () => {
  const repository = newRepository();
  for (let i = 0; i < 250; i++)
    emulator.createPull(repository, { title: `p${i}` }, { at: Date.now() - 600_000 + i * 1000 });
  const { source, token } = sourceFor(repository);
  const mark = await source.changeMark();
  await new Promise((resolve) => setTimeout(resolve, 1100));
  emulator.updatePull(repository, 3, { title: "changed" });
  emulator.updatePull(repository, 200, { merged: true });
  const before = emulator.requests.length;
  const { seen } = await drain(source, mark, ["pull_requests"]);
  const pulls = emulator.requests.slice(before).filter((r) => r.token === token && r.path.endsWith("/pulls"));
  assert.equal(pulls.length, 1, "one page: the walk stops at the bookmark");
  const read = seen.get("pull_requests")!;
  for (const n of [3, 200]) {
    const pull = emulator.pulls(repository).find((p) => p.number === n)!;
    assert.deepEqual(read.get(githubKey(pull)), pull);
  }
  // besides the two: only those within the lookback (2 s) of the bookmark, read again
  assert.ok(read.size <= 5, `${read.size} pull requests read`);
});

test("a page of /issues that is all pull requests still moves the bookmark (tap-github PR #58)", async () => {
  const repository = newRepository();
  const { source, token } = sourceFor(repository, { lookback: 0 });
  const mark = await source.changeMark();
  await new Promise((resolve) => setTimeout(resolve, 1100));
  for (let i = 0; i < 150; i++)
    emulator.createPull(repository, { title: `p${i}` }, { at: Date.now() - 300_000 + i * 1000 });
  const first = await drain(source, mark, ["issues"]);
  assert.equal(first.seen.size, 0, "no issue records from pull requests");
  const again = await drain(source, first.cursor, ["issues"]);
  assert.equal(again.pages, 1);
  const before = emulator.requests.length;
  await drain(source, again.cursor, ["issues"]);
  const polls = emulator.requests.slice(before).filter((r) => r.token === token);
  assert.deepEqual(
    polls.map((r) => r.status),
    [304],
    "the next poll asks once and is told nothing changed",
  );
});

test("a change that shows in lists late (within the lookback) is still read", async () => {
  const repository = newRepository();
  for (let i = 0; i < 3; i++) emulator.createIssue(repository);
  const { source } = sourceFor(repository, { lookback: 3 });
  let cursor: unknown = await source.changeMark();
  emulator.setVisibilityDelay(1500);
  const late = emulator.updateIssue(repository, 1, { title: "late" });
  emulator.setVisibilityDelay(0);
  await new Promise((resolve) => setTimeout(resolve, 1100));
  const prompt = emulator.updateIssue(repository, 2, { title: "prompt" });
  const first = await drain(source, cursor, ["issues"]);
  // (the issues made just before are read again: they are within the lookback)
  assert.deepEqual(first.seen.get("issues")!.get(githubKey(prompt)), prompt);
  assert.notDeepEqual(
    first.seen.get("issues")!.get(githubKey(late)),
    late,
    "the late change is not listed yet",
  );
  cursor = first.cursor;
  await new Promise((resolve) => setTimeout(resolve, 600));
  const second = await drain(source, cursor, ["issues"]);
  assert.deepEqual(second.seen.get("issues")?.get(githubKey(late)), late);
});

test("issues updated between the backfill's pages move no page boundary: none is skipped", async () => {
  const repository = newRepository();
  for (let i = 0; i < 450; i++)
    emulator.createIssue(repository, { title: `b${i}` }, { at: Date.now() - 500_000 + i * 1000 });
  const { source, token } = sourceFor(repository);
  const expected = new Set(emulator.issues(repository).map((i) => githubKey(i)));
  // before each page, the oldest issue not yet touched is updated: it moves to the end of the list
  let touched = 0;
  const stop = emulator.onRequest((request) => {
    if (request.token === token && request.path.endsWith("/issues"))
      emulator.updateIssue(repository, ++touched, { title: "moved" });
  });
  const read = new Set<string>();
  let token_: string | null = null;
  let pages = 0;
  do {
    const page = await source.backfillPage("issues", token_);
    for (const r of page.records) read.add(r.upstream_id);
    token_ = page.next;
    assert.ok(++pages < 30);
  } while (token_ !== null);
  stop();
  assert.deepEqual(
    [...expected].filter((id) => !read.has(id)),
    [],
    "every issue read",
  );
});

test("the quota spent: a failure naming the reset, nothing asked meanwhile, then pulling resumes", async () => {
  const repository = newRepository();
  emulator.createIssue(repository);
  const { source, token } = sourceFor(repository, { longPauseMs: 500 });
  emulator.setPrimaryLimit(3, 3);
  try {
    const mark = await source.changeMark(); // 3 requests: the last leaves 0
    const asked = emulator.requests.filter((r) => r.token === token).length;
    await assert.rejects(
      source.changesSince(mark, ["issues"]),
      (error: ProviderError) =>
        error instanceof ProviderError &&
        error.kind === "unavailable" &&
        /asked to wait until .*rate limit .* spent/.test(error.message),
    );
    assert.equal(
      emulator.requests.filter((r) => r.token === token).length,
      asked,
      "nothing asked while spent",
    );
    assert.equal(
      emulator.requests.filter((r) => r.token === token && r.status === 403).length,
      0,
      "GitHub never had to refuse",
    );
    await new Promise((resolve) => setTimeout(resolve, 3100));
    const page = await source.changesSince(mark, ["issues"]);
    assert.ok(!("expired" in page));
  } finally {
    emulator.setPrimaryLimit(5000);
  }
});

test("the quota spent by another client of the token: the 403 pauses until the reset, the same failure", async () => {
  const repository = newRepository();
  const shared = emulator.createToken();
  const { source } = sourceFor(repository, { token: shared, longPauseMs: 500 });
  emulator.setPrimaryLimit(2, 3);
  try {
    for (let i = 0; i < 2; i++)
      await fetch(`${emulator.baseUrl}/repos/${repository}`, {
        headers: { authorization: `Bearer ${shared}` },
      });
    await assert.rejects(
      source.verify(),
      (error: ProviderError) => error.kind === "unavailable" && /asked to wait until/.test(error.message),
    );
    await new Promise((resolve) => setTimeout(resolve, 3100));
    await source.verify();
  } finally {
    emulator.setPrimaryLimit(5000);
  }
});

test("a secondary limit with retry-after is waited out, then the request goes through", async () => {
  const repository = newRepository();
  const { source, token } = sourceFor(repository);
  emulator.faults.failNext(1, { kind: "secondary_limit", path: `/repos/${repository}/issues` });
  await source.verify();
  const ours = emulator.requests.filter((r) => r.token === token);
  assert.deepEqual(
    ours.map((r) => r.status),
    [403, 200],
  );
  assert.ok(ours[1]!.at - ours[0]!.at >= 950, `waited ${ours[1]!.at - ours[0]!.at} ms of retry-after: 1`);
});

test("while a backfill reads pages: feeds asked every 30 s at most, and a due sweep waits for its end", async () => {
  const repository = newRepository();
  for (let i = 0; i < 350; i++) emulator.createIssue(repository);
  let now = Date.now();
  const token = emulator.createToken();
  const http = new ProviderHttp({
    provider: githubRules,
    baseUrl: emulator.baseUrl,
    headers: () => ({ authorization: `Bearer ${token}` }),
    allotment: new Allotment(100),
  });
  const source = new GithubSource(http, { repositories: [repository], sweep_interval_hours: 1 }, () => now);
  const asked = () => emulator.requests.filter((r) => r.token === token).length;
  const mark = await source.changeMark();
  now += 3_590_000;
  const first = await source.backfillPage("issues", null);
  assert.ok(first.next !== null);
  assert.ok(!("expired" in (await source.changesSince(mark, ["issues"]))), "not yet due");
  const before = asked();
  now += 2000;
  const second = await source.backfillPage("issues", first.next);
  assert.ok(second.next !== null);
  assert.ok(!("expired" in (await source.changesSince(mark, ["issues"]))));
  assert.equal(asked(), before + 1, "the backfill's page, and no poll within 30 s of the last");
  now += 9000; // the sweep is due, the backfill (one page left) still runs
  const third = await source.backfillPage("issues", second.next);
  assert.ok(third.next !== null);
  now += 1000;
  assert.ok(!("expired" in (await source.changesSince(mark, ["issues"]))), "due, but a backfill runs");
  now += 30_000; // its pages stopped coming for three of its gaps (9 s each): quiet
  const due = await source.changesSince(mark, ["issues"]);
  assert.ok("expired" in due && /periodic sweep/.test(due.expired), "due once the backfill is quiet");
});
