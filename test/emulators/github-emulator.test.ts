/**
 * The GitHub emulator's answers, checked three ways: GitHub's official client (`@octokit/rest` 22.0.1) runs
 * unmodified against it; every body the sync reads validates against GitHub's own OpenAPI description
 * (api.github.com: the answer schemas are GitHub's, extracted from `@octokit/openapi` 23.0.2 into
 * github/openapi-schemas.json by `npm run fixtures:github-openapi`, so tests need not install the whole
 * package); and the signals GitHub documents (`x-ratelimit-*`, the secondary-limit message and
 * `retry-after`, 304s that cost nothing, 410 and 301) are there, and our rules (github-rules.ts) read them
 * as GitHub means them.
 */
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { test } from "node:test";
import { Octokit } from "@octokit/rest";
import { Ajv } from "ajv";
import { githubRules } from "../../src/sources/github/github-rules.js";
import { githubTime, startGithubEmulator } from "./github/index.js";

const require = createRequire(import.meta.url);
/** The 200 `application/json` schema of each GET below, by path. */
const { schemas } = require("./github/openapi-schemas.json") as { schemas: Record<string, unknown> };
const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false, logger: false });
/** The OpenAPI schema of an operation's 200 answer, compiled. */
function schemaOf(path: string) {
  const schema = schemas[path];
  assert.ok(schema, `${path}: not in openapi-schemas.json (add it to scripts/github-openapi-schemas.mjs)`);
  return ajv.compile(jsonSchema(schema) as object);
}

/** OpenAPI 3.0's `nullable: true` as JSON Schema: the schema, or null. */
function jsonSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(jsonSchema);
  if (typeof node !== "object" || node === null) return node;
  const { nullable, ...rest } = node as Record<string, unknown>;
  const converted: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(rest))
    converted[key] = key === "properties" ? mapValues(value as Record<string, unknown>) : jsonSchema(value);
  if (nullable !== true) return converted;
  if (typeof converted.type === "string" && !converted.enum)
    return { ...converted, type: [converted.type, "null"] };
  return { anyOf: [converted, { type: "null" }] };
}

function mapValues(properties: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(properties).map(([key, value]) => [key, jsonSchema(value)]));
}

const emulator = await startGithubEmulator();
const repo = "octo-org/api";
emulator.createRepository(repo);
emulator.createRepository("octo-org/web");
const token = emulator.createToken();
/** Octokit logs each request through `log.debug/info`: kept quiet, its errors still thrown. */
const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const octokit = new Octokit({ auth: token, baseUrl: emulator.baseUrl, log: quiet });
const [owner, name] = repo.split("/") as [string, string];

function valid(validate: ReturnType<typeof schemaOf>, body: unknown, what: string) {
  assert.ok(validate(body), `${what}: ${ajv.errorsText(validate.errors)}`);
}

test("Octokit pages issues (pull requests inside), pulls and comments; GitHub's schemas hold", async () => {
  for (let i = 0; i < 45; i++)
    emulator.createIssue(repo, { title: `Issue ${i}`, labels: i % 3 ? [] : ["bug"] });
  const pull = emulator.createPull(repo, { title: "A change" });
  emulator.createComment(repo, 1, "First!");
  emulator.updateIssue(repo, 2, { state: "closed" });

  const open = await octokit.paginate(octokit.rest.issues.listForRepo, { owner, repo: name, per_page: 20 });
  assert.equal(open.length, 45, "state=open by default: the closed one hidden, the pull request shown");
  const all = await octokit.paginate(octokit.rest.issues.listForRepo, {
    owner,
    repo: name,
    state: "all",
    per_page: 20,
  });
  assert.equal(all.length, 46);
  assert.equal(all.filter((issue) => issue.pull_request).length, 1);
  valid(schemaOf("/repos/{owner}/{repo}/issues"), all, "issues list");

  const pulls = await octokit.rest.pulls.list({ owner, repo: name, state: "all" });
  assert.deepEqual(
    pulls.data.map((p) => p.id),
    [pull.id],
  );
  valid(schemaOf("/repos/{owner}/{repo}/pulls"), pulls.data, "pulls list");
  const comments = await octokit.rest.issues.listCommentsForRepo({ owner, repo: name });
  assert.equal(comments.data.length, 1);
  valid(schemaOf("/repos/{owner}/{repo}/issues/comments"), comments.data, "comments list");
  const one = await octokit.rest.issues.get({ owner, repo: name, issue_number: 1 });
  valid(schemaOf("/repos/{owner}/{repo}/issues/{issue_number}"), one.data, "issue");
  assert.equal(one.data.comments, 1);
  const repository = await octokit.rest.repos.get({ owner, repo: name });
  valid(schemaOf("/repos/{owner}/{repo}"), repository.data, "repository");
  const pr = await octokit.rest.pulls.get({ owner, repo: name, pull_number: pull.number as number });
  assert.equal(pr.data.id, pull.id);

  // Link: rel="next" and rel="last" as Octokit follows them
  const first = await octokit.rest.issues.listForRepo({ owner, repo: name, state: "all", per_page: 20 });
  assert.match(first.headers.link ?? "", /[?&]page=2[^>]*>; rel="next"/);
  assert.match(first.headers.link ?? "", /[?&]page=3[^>]*>; rel="last"/);
});

test("since is inclusive (updated at or after), sorted by updated time, ties in one order", async () => {
  emulator.createRepository("octo-org/since");
  const at = Date.parse("2026-01-01T10:00:00Z");
  const a = emulator.createIssue("octo-org/since", { title: "a" }, { at });
  const b = emulator.createIssue("octo-org/since", { title: "b" }, { at: at + 400 }); // same second
  const c = emulator.createIssue("octo-org/since", { title: "c" }, { at: at + 2000 });
  const listed = await octokit.rest.issues.listForRepo({
    owner: "octo-org",
    repo: "since",
    state: "all",
    sort: "updated",
    direction: "asc",
    since: githubTime(at),
  });
  assert.deepEqual(
    listed.data.map((i) => i.id),
    [a.id, b.id, c.id],
  );
  const later = await octokit.rest.issues.listForRepo({
    owner: "octo-org",
    repo: "since",
    state: "all",
    sort: "updated",
    direction: "asc",
    since: githubTime(at + 1000),
  });
  assert.deepEqual(
    later.data.map((i) => i.id),
    [c.id],
  );
  // /pulls takes no since: GitHub ignores it, so does the emulator
  const pulls = await fetch(`${emulator.baseUrl}/repos/${repo}/pulls?state=all&since=2030-01-01T00:00:00Z`, {
    headers: { authorization: `Bearer ${token}` },
  });
  assert.equal(((await pulls.json()) as unknown[]).length, 1);
});

test("a deleted issue answers 410, a transferred one 301 to its new address (Octokit follows it)", async () => {
  const gone = emulator.createIssue(repo, { title: "to delete" });
  emulator.deleteIssue(repo, gone.number as number);
  await assert.rejects(
    octokit.rest.issues.get({ owner, repo: name, issue_number: gone.number as number }),
    (error: { status: number; message: string }) =>
      error.status === 410 && /This issue was deleted/.test(error.message),
  );
  const moving = emulator.createIssue(repo, { title: "to transfer" });
  const moved = emulator.transferIssue(repo, moving.number as number, "octo-org/web");
  assert.equal(moved.id, moving.id, "a transferred issue keeps its id");
  const raw = await fetch(`${emulator.baseUrl}/repos/${repo}/issues/${moving.number}`, {
    headers: { authorization: `Bearer ${token}` },
    redirect: "manual",
  });
  assert.equal(raw.status, 301);
  assert.match(raw.headers.get("location") ?? "", /\/repositories\/\d+\/issues\/\d+$/);
  const followed = await octokit.rest.issues.get({
    owner,
    repo: name,
    issue_number: moving.number as number,
  });
  assert.equal(followed.data.repository_url, `${emulator.baseUrl}/repos/octo-org/web`);
  const listed = await octokit.paginate(octokit.rest.issues.listForRepo, { owner, repo: name, state: "all" });
  assert.ok(!listed.some((i) => i.id === gone.id || i.id === moving.id), "neither is listed any more");
});

test("a 304 to If-None-Match costs no quota; quota headers on every answer", async () => {
  const url = `${emulator.baseUrl}/repos/${repo}/issues?state=all&per_page=5`;
  const headers = { authorization: `Bearer ${token}` };
  const first = await fetch(url, { headers });
  const etag = first.headers.get("etag");
  assert.ok(etag);
  const remaining = Number(first.headers.get("x-ratelimit-remaining"));
  for (const header of ["x-ratelimit-limit", "x-ratelimit-used", "x-ratelimit-reset", "x-ratelimit-resource"])
    assert.ok(first.headers.get(header), header);
  const again = await fetch(url, { headers: { ...headers, "if-none-match": etag } });
  assert.equal(again.status, 304);
  assert.equal(Number(again.headers.get("x-ratelimit-remaining")), remaining, "a 304 is free");
  await assert.rejects(
    octokit.request("GET /repos/{owner}/{repo}/issues", {
      owner,
      repo: name,
      state: "all",
      per_page: 5,
      headers: { "if-none-match": etag },
    }),
    (error: { status: number }) => error.status === 304,
  );
  emulator.createIssue(repo, { title: "a change" });
  const changed = await fetch(url, { headers: { ...headers, "if-none-match": etag } });
  assert.equal(changed.status, 200);
  assert.equal(githubRules.judge({ status: 304, headers: again.headers, body: "" }, Date.now()).kind, "ok");
});

test("the primary limit spent: 403 with x-ratelimit-remaining 0 until the reset; our rules wait for it", async () => {
  const spent = emulator.createToken();
  emulator.setPrimaryLimit(3, 2);
  try {
    const headers = { authorization: `Bearer ${spent}` };
    let last: Response | undefined;
    for (let i = 0; i < 3; i++) last = await fetch(`${emulator.baseUrl}/repos/${repo}`, { headers });
    assert.equal(last!.headers.get("x-ratelimit-remaining"), "0");
    const now = Date.now();
    const pause = githubRules.pauseAfter!({ status: 200, headers: last!.headers, body: {} }, now);
    assert.ok(pause !== undefined && pause > now - 1000, "a success leaving 0 pauses until the reset");
    const refused = await fetch(`${emulator.baseUrl}/repos/${repo}`, { headers });
    assert.equal(refused.status, 403);
    const body = (await refused.json()) as { message: string };
    assert.match(body.message, /^API rate limit exceeded for user ID \d+\./);
    assert.equal(refused.headers.get("x-ratelimit-remaining"), "0");
    const verdict = githubRules.judge({ status: 403, headers: refused.headers, body }, Date.now());
    assert.equal(verdict.kind, "throttled");
    assert.equal(
      verdict.kind === "throttled" ? verdict.untilMs : 0,
      Number(refused.headers.get("x-ratelimit-reset")) * 1000,
    );
    const client = new Octokit({ auth: spent, baseUrl: emulator.baseUrl, log: quiet });
    await assert.rejects(
      client.rest.repos.get({ owner, repo: name }),
      (e: { status: number }) => e.status === 403,
    );
    await new Promise((resolve) => setTimeout(resolve, 2100));
    assert.equal((await fetch(`${emulator.baseUrl}/repos/${repo}`, { headers })).status, 200, "a new window");
  } finally {
    emulator.setPrimaryLimit(5000);
  }
});

test("a secondary limit: the message Octokit's throttling plugin matches, retry-after; read as throttled", async () => {
  const busy = emulator.createToken();
  emulator.setSecondaryLimit({ perSecond: 2, retryAfterSeconds: 3, status: 429 });
  try {
    const headers = { authorization: `Bearer ${busy}` };
    const answers = await Promise.all(
      Array.from({ length: 4 }, () => fetch(`${emulator.baseUrl}/repos/${repo}`, { headers })),
    );
    const refused = answers.find((a) => a.status === 429)!;
    assert.ok(refused, "the third request in a second is refused");
    const body = (await refused.json()) as { message: string };
    assert.match(body.message, /\bsecondary rate\b/i);
    assert.equal(refused.headers.get("retry-after"), "3");
    const now = Date.now();
    const verdict = githubRules.judge({ status: 429, headers: refused.headers, body }, now);
    assert.deepEqual(verdict, { kind: "throttled", message: body.message, untilMs: now + 3000 });
  } finally {
    emulator.setSecondaryLimit(null);
  }
});

test("bad credentials 401, a repository out of the token's reach 404, a missing permission 403: refusals", async () => {
  const revoked = emulator.createToken();
  emulator.revokeToken(revoked);
  const narrow = emulator.createToken({ repositories: ["octo-org/web"] });
  const noIssues = emulator.createToken({ permissions: { issues: false } });
  const cases: [string, number, RegExp][] = [
    [revoked, 401, /^Bad credentials$/],
    [narrow, 404, /^Not Found$/],
    [noIssues, 403, /^Resource not accessible by personal access token$/],
  ];
  for (const [credential, status, message] of cases) {
    const client = new Octokit({ auth: credential, baseUrl: emulator.baseUrl, log: quiet });
    await assert.rejects(
      client.rest.issues.listForRepo({ owner, repo: name }),
      (e: { status: number }) => e.status === status,
    );
    const answer = await fetch(`${emulator.baseUrl}/repos/${repo}/issues`, {
      headers: { authorization: `token ${credential}` },
    });
    const body = (await answer.json()) as { message: string; documentation_url: string; status: string };
    assert.match(body.message, message);
    assert.equal(body.status, String(status));
    assert.match(body.documentation_url, /^https:\/\/docs\.github\.com\//);
    assert.equal(githubRules.judge({ status, headers: answer.headers, body }, Date.now()).kind, "refused");
  }
});

test("visibility delay: lists show a change late, the issue itself at once; faults: 500, 502 HTML, cut", async () => {
  emulator.createRepository("octo-org/late");
  emulator.setVisibilityDelay(1500);
  const issue = emulator.createIssue("octo-org/late", { title: "late" });
  emulator.setVisibilityDelay(0);
  const list = () => octokit.rest.issues.listForRepo({ owner: "octo-org", repo: "late", state: "all" });
  assert.equal((await list()).data.length, 0);
  assert.equal(
    (await octokit.rest.issues.get({ owner: "octo-org", repo: "late", issue_number: 1 })).data.id,
    issue.id,
  );
  await new Promise((resolve) => setTimeout(resolve, 1600));
  assert.equal((await list()).data.length, 1);

  emulator.faults.failNext(1, { kind: "server_error" });
  await assert.rejects(list(), (e: { status: number }) => e.status === 500);
  emulator.faults.failNext(1, { kind: "bad_gateway" });
  const html = await fetch(`${emulator.baseUrl}/repos/${repo}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  assert.equal(html.status, 502);
  assert.match(html.headers.get("content-type") ?? "", /text\/html/);
  // a cut body: fetch rejects ("terminated"); Octokit swallows it and answers 200 with an empty body
  emulator.faults.failNext(1, { kind: "destroy" });
  const cut = await fetch(`${emulator.baseUrl}/repos/${repo}/issues`, {
    headers: { authorization: `Bearer ${token}` },
  });
  assert.equal(cut.status, 200);
  await assert.rejects(cut.text(), /terminated/);
  emulator.faults.failNext(1, { kind: "destroy" });
  const swallowed = await list();
  assert.equal(Array.isArray(swallowed.data), false, "Octokit hands back no list, and no error");
  assert.equal((await list()).data.length, 1);
});
