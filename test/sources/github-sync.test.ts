/**
 * A sync that pulls GitHub, end to end through the API, against the stateful GitHub emulator: a wrong token
 * or a bad repository list is refused at creation with GitHub's reason; the backfill (with changes made while
 * it runs) and then live changes leave the stream equal to GitHub's live issues, pull requests and comments
 * in two repositories; deletes and transfers GitHub lists nowhere are seen at the periodic sweep; the
 * allotment holds in every one-second window GitHub saw, and unchanged polls are 304s; a token revoked
 * later makes the sync failing with one alert, and a new one brings it back with one recovery.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { busiestWindow, type GithubEmulator, startGithubEmulator } from "../emulators/github/index.js";
import { startWebhookReceiver } from "../helpers/alert-receivers.js";
import { startTestService } from "../helpers/service.js";
import { waitFor } from "../helpers/wait.js";
import { githubKey } from "./github-keys.js";
import { waitSyncSeries } from "./sync-metrics.js";

const emulator = await startGithubEmulator();
const webhook = await startWebhookReceiver();
const api = await startTestService({
  SEQUIN_LEASE_SECONDS: "3",
  SEQUIN_ALERT_WEBHOOK_URL: webhook.url,
  SEQUIN_ALERT_SETTLE_SECONDS: "1",
});
const repositories = ["octo-org/api", "octo-org/web"];
for (const repository of [...repositories, "octo-org/elsewhere"]) emulator.createRepository(repository);

async function createGithubSync(name: string, token: string, settings: Record<string, unknown> = {}) {
  return api.request("POST", "/v1/syncs", {
    body: {
      name,
      provider: "github",
      collections: ["issues", "pull_requests", "issue_comments"],
      source: {
        credentials: { token },
        settings: { repositories, lookback_seconds: 2, ...settings },
        base_url: emulator.baseUrl,
        max_requests_per_second: 10,
        poll_interval_seconds: 0.25,
      },
    },
  });
}

/** The stream's live records of a collection: upstream id → payload. */
async function streamOf(syncId: string, collection: string) {
  const { rows } = await api.store.pool.query<{ upstream_id: string; payload: unknown }>(
    "select upstream_id, payload from sequin_records where sync_id = $1 and collection_id = $2 and not deleted",
    [syncId, collection],
  );
  return new Map(rows.map((r) => [r.upstream_id, r.payload]));
}

/** GitHub's live objects of the sync's repositories, per collection. */
function liveOf(github: GithubEmulator) {
  return {
    issues: repositories.flatMap((r) => github.issues(r)),
    pull_requests: repositories.flatMap((r) => github.pulls(r)),
    issue_comments: repositories.flatMap((r) => github.comments(r)),
  };
}

async function converged(syncId: string): Promise<true | string> {
  for (const [collection, live] of Object.entries(liveOf(emulator))) {
    const stream = await streamOf(syncId, collection);
    if (stream.size !== live.length)
      return `${collection}: ${stream.size} in the stream, ${live.length} on GitHub`;
    for (const object of live) {
      try {
        assert.deepEqual(stream.get(githubKey(object)), object);
      } catch {
        return `${collection} ${object.id} differs`;
      }
    }
  }
  return true;
}

async function waitConverged(syncId: string, what: string, timeoutMs = 30_000) {
  let last = "";
  await waitFor(
    what,
    async () => {
      const result = await converged(syncId);
      if (result === true) return true;
      last = result;
      return false;
    },
    timeoutMs,
  ).catch((error: Error) => {
    throw new Error(`${error.message} (${last})`);
  });
}

test("a wrong token, or repositories not written owner/name, are refused at creation; nothing is saved", async () => {
  const revoked = emulator.createToken();
  emulator.revokeToken(revoked);
  const refused = await createGithubSync("github-revoked", revoked);
  assert.equal(refused.status, 422, JSON.stringify(refused.body));
  assert.equal(refused.body.code, "provider_refused");
  assert.match(
    refused.body.validation_errors["source.credentials"][0],
    /^github refused it: .*Bad credentials/,
  );
  assert.doesNotMatch(JSON.stringify(refused.body), new RegExp(revoked));
  const unreachable = await createGithubSync(
    "github-unreachable",
    emulator.createToken({ repositories: ["octo-org/api"] }),
  );
  assert.equal(unreachable.status, 422);
  assert.match(
    unreachable.body.validation_errors["source.credentials"][0],
    /octo-org\/web\/issues: Not Found/,
  );
  const malformed = await createGithubSync("github-malformed", emulator.createToken(), {
    repositories: ["octo-org", "octo-org/api"],
  });
  assert.equal(malformed.status, 400);
  assert.match(
    malformed.body.validation_errors["source.settings.repositories[0]"][0],
    /must be "owner\/name"/,
  );
  const missing = await api.request("POST", "/v1/syncs", {
    body: {
      name: "github-no-repositories",
      provider: "github",
      collections: ["issues"],
      source: { credentials: { token: emulator.createToken() }, base_url: emulator.baseUrl },
    },
  });
  assert.equal(missing.status, 400);
  assert.match(missing.body.validation_errors["source.settings.repositories"][0], /is required/);
  const syncs = (await api.request("GET", "/v1/syncs")).body.data as { name: string }[];
  assert.deepEqual(
    syncs.filter((s) => s.name.startsWith("github-")),
    [],
  );
});

test("backfill with changes meanwhile, live changes, deletes and transfers at the sweep: the stream equals GitHub", async () => {
  for (let i = 0; i < 230; i++)
    emulator.createIssue("octo-org/api", { title: `API issue ${i}`, labels: i % 4 ? [] : ["bug"] });
  for (let i = 0; i < 40; i++) emulator.createIssue("octo-org/web", { title: `Web issue ${i}` });
  for (let i = 0; i < 12; i++) emulator.createPull("octo-org/api", { title: `Change ${i}` });
  for (let i = 0; i < 30; i++) emulator.createComment("octo-org/api", 1 + (i % 5), `comment ${i}`);
  emulator.updateIssue("octo-org/web", 3, { state: "closed" }); // closed: still pulled (state=all)

  const token = emulator.createToken();
  const created = await createGithubSync("github-main", token, { sweep_interval_hours: 6 / 3600 });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const sync = created.body as { id: string; source: { provider: string } };
  assert.equal(sync.source.provider, "github");
  assert.doesNotMatch(JSON.stringify(sync), new RegExp(token));

  // while the backfill runs: an update, a new issue, a merged pull request, an edited comment
  emulator.updateIssue("octo-org/api", 7, { title: "Renamed during backfill" });
  emulator.createIssue("octo-org/web", { title: "New during backfill" });
  emulator.updatePull("octo-org/api", 232, { merged: true });
  emulator.updateComment("octo-org/api", emulator.comments("octo-org/api")[0]!.id as number, "edited");
  await waitConverged(sync.id, "the backfill and the changes made meanwhile");
  await waitFor("live", async () => {
    const s = (await api.request("GET", `/v1/syncs/${sync.id}`)).body;
    return s.source.state === "live";
  });

  // live: a burst of changes to one issue within one second, new comments, a closed pull request
  for (let i = 0; i < 5; i++) emulator.updateIssue("octo-org/api", 10, { title: `Burst ${i}` });
  emulator.createComment("octo-org/web", 2, "a new comment");
  emulator.updatePull("octo-org/api", 235, { state: "closed" });
  emulator.createPull("octo-org/web", { title: "A web change" });
  const changedAt = Date.now();
  await waitConverged(sync.id, "live changes");
  const seconds = (Date.now() - changedAt) / 1000;
  assert.ok(seconds < 5, `live changes took ${seconds} s`);

  // deletes GitHub lists nowhere: a deleted issue (its comments too), a deleted comment, an issue moved out
  // of the sync's repositories and one moved between them (a new number there, so a new key: the old one
  // goes): seen at the next sweep
  const deleted = emulator.issues("octo-org/api")[1]!;
  emulator.deleteIssue("octo-org/api", deleted.number as number);
  emulator.deleteComment("octo-org/api", emulator.comments("octo-org/api")[3]!.id as number);
  const movedOut = emulator.issues("octo-org/web")[5]!;
  emulator.transferIssue("octo-org/web", movedOut.number as number, "octo-org/elsewhere");
  const movedAcross = emulator.issues("octo-org/web")[6]!;
  emulator.transferIssue("octo-org/web", movedAcross.number as number, "octo-org/api");
  await waitConverged(sync.id, "the sweep's deletes", 40_000);
  const { rows } = await api.store.pool.query(
    "select upstream_id, deleted from sequin_records where sync_id = $1 and collection_id = 'issues' and upstream_id = any($2) order by upstream_id",
    [sync.id, [githubKey(deleted), githubKey(movedOut), githubKey(movedAcross)]],
  );
  assert.deepEqual(
    rows.map((r) => r.deleted),
    [true, true, true],
    "the deleted issue, and the old keys of both moved ones",
  );
  const view = await waitFor("live after the sweep", async () => {
    const s = (await api.request("GET", `/v1/syncs/${sync.id}`)).body;
    return s.source.state === "live" && s.source.rebackfill === null ? s.source : undefined;
  });
  assert.equal(view.last_error, null);

  // the allotment (10 a second) held in every one-second window GitHub saw for this token; quiet polls are 304s
  const ours = emulator.requests.filter((r) => r.token === token);
  assert.ok(busiestWindow(ours, 1000) <= 10, `busiest second: ${busiestWindow(ours, 1000)}`);
  const since = Date.now();
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const quiet = emulator.requests.filter(
    (r) => r.token === token && r.at >= since && r.path.endsWith("/issues"),
  );
  assert.ok(quiet.length > 0, "polls while nothing changes");
  assert.ok(
    quiet.filter((r) => r.status === 304).length >= quiet.length - 2,
    `unchanged polls answered 304: ${quiet.map((r) => r.status).join(" ")}`,
  );
});

test("a token revoked later: failing, one alert, no storm; a new token through PATCH: live again, one recovery", async () => {
  const token = emulator.createToken();
  const created = await createGithubSync("github-revoked-later", token);
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const syncId = created.body.id as string;
  await waitFor(
    "live",
    async () => (await api.request("GET", `/v1/syncs/${syncId}`)).body.source.state === "live",
  );
  emulator.revokeToken(token);
  const failing = await waitFor("failing", async () => {
    const source = (await api.request("GET", `/v1/syncs/${syncId}`)).body.source;
    return source.state === "failing" ? source : undefined;
  });
  assert.equal(failing.last_error.kind, "refused");
  const credential = failing.health.checks.find((c: { name: string }) => c.name === "credential");
  assert.equal(credential.status, "unhealthy");
  assert.match(credential.error, /github refused .*: Bad credentials/);
  const alert = await waitFor("the sync's alert", () =>
    webhook.received.find((r) => r.json.entity.kind === "sync" && r.json.entity.id === syncId),
  );
  assert.equal(alert.json.event, "sync.unhealthy");
  await waitSyncSeries(
    api.url,
    "github-revoked-later",
    "github",
    (s) => s.state === "failing" && s.healthy === 0 && (s.requests ?? 0) > 0,
    "the refused token in /metrics",
  );
  const refusedAt = emulator.requests.filter((r) => r.token === token && r.status === 401).length;
  await new Promise((resolve) => setTimeout(resolve, 6000));
  const retries = emulator.requests.filter((r) => r.token === token && r.status === 401).length - refusedAt;
  assert.ok(retries <= 4, `${retries} requests with the revoked token in 6 s`);
  assert.equal(
    webhook.received.filter((r) => r.json.entity.kind === "sync" && r.json.entity.id === syncId).length,
    1,
  );

  const fresh = emulator.createToken();
  const patched = await api.request("PATCH", `/v1/syncs/${syncId}`, {
    body: { source: { credentials: { token: fresh } } },
  });
  assert.equal(patched.status, 200, JSON.stringify(patched.body));
  emulator.createIssue("octo-org/api", { title: "after the new token" });
  await waitConverged(syncId, "the sync with its new token");
  await waitFor(
    "live again",
    async () => (await api.request("GET", `/v1/syncs/${syncId}`)).body.source.state === "live",
  );
  const recovered = await waitFor("the recovery alert", () =>
    webhook.received.find((r) => r.json.entity.id === syncId && r.json.event === "sync.recovered"),
  );
  assert.equal(recovered.json.entity.status, "healthy");
});
