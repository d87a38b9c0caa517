// biome-ignore-all lint/suspicious/noTemplateCurlyInString: config files hold ${VAR} references literally
/**
 * A provider's settings through the config file, against the GitHub emulator: a GitHub sync's repositories
 * are planned and applied with it, records arrive; a changed list is planned field by field and applied, the
 * added repository's records arrive and the removed one's are deleted from the stream (at once, not at the
 * next day's sweep); a setting GitHub's rules refuse stops apply naming the field and the rule, changing
 * nothing; export writes the settings back and plans to nothing.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { startGithubEmulator } from "../emulators/github/index.js";
import { startTestService } from "../helpers/service.js";
import { waitFor } from "../helpers/wait.js";
import { configFolder } from "./config-folder.js";
import { runSequin } from "./sequin-process.js";

const github = await startGithubEmulator();
const api = await startTestService();
const configs = await configFolder("sequin-config-settings-");
for (const repository of ["acme/api", "acme/web"]) github.createRepository(repository);
for (let i = 0; i < 3; i++) github.createIssue("acme/api", { title: `API issue ${i}` });
for (let i = 0; i < 2; i++) github.createIssue("acme/web", { title: `Web issue ${i}` });
const env = { SEQUIN_URL: api.url, SEQUIN_API_TOKEN: api.token, GITHUB_TOKEN: github.createToken() };

function fileWith(repositories: string): string {
  return `syncs:
  - name: acme-github
    provider: github
    collections: [issues]
    source:
      credentials:
        token: \${GITHUB_TOKEN}
      base_url: ${github.baseUrl}
      max_requests_per_second: 15
      poll_interval_seconds: 0.25
      settings:
        repositories: ${repositories}
`;
}

const writeConfig = configs.write;

async function syncNamed(name: string) {
  const response = await api.request("GET", "/v1/syncs");
  return response.body.data.find((s: { name: string }) => s.name === name);
}

/** The issue titles live in the sync's stream, sorted. */
async function streamTitles(syncId: string): Promise<string[]> {
  const { rows } = await api.store.pool.query<{ title: string }>(
    `select payload->>'title' as title from sequin_records
     where sync_id = $1 and collection_id = 'issues' and not deleted order by 1`,
    [syncId],
  );
  return rows.map((r) => r.title);
}

async function waitForTitles(syncId: string, expected: string[], what: string) {
  let last: string[] = [];
  await waitFor(
    what,
    async () => {
      last = await streamTitles(syncId);
      return JSON.stringify(last) === JSON.stringify(expected);
    },
    30_000,
  ).catch((error: Error) => {
    throw new Error(`${error.message}: the stream holds ${JSON.stringify(last)}`);
  });
}

const apiTitles = ["API issue 0", "API issue 1", "API issue 2"];
const webTitles = ["Web issue 0", "Web issue 1"];

test("GitHub's repositories in the file: planned, applied, pulled; a changed list swaps the records", async () => {
  const first = await writeConfig("first.yaml", fileWith("[acme/api]"));
  const plan = await runSequin(["config", "plan", "-f", first], env);
  assert.equal(plan.code, 2, plan.stderr);
  assert.ok(plan.stdout.split("\n").includes('    source.settings.repositories: ["acme/api"]'), plan.stdout);
  const apply = await runSequin(["config", "apply", "-f", first], env);
  assert.equal(apply.code, 0, apply.stderr);
  const sync = await syncNamed("acme-github");
  assert.deepEqual(sync.source.settings, { repositories: ["acme/api"] });
  await waitForTitles(sync.id, apiTitles, "acme/api's issues in the stream");

  const second = await writeConfig("second.yaml", fileWith("[acme/api, acme/web]"));
  const added = await runSequin(["config", "plan", "-f", second], env);
  assert.equal(added.code, 2, added.stderr);
  assert.match(
    added.stdout,
    /^~ update sync "acme-github": source\.settings\.repositories: \["acme\/api"\] → \["acme\/api","acme\/web"\]$/m,
  );
  assert.equal((await runSequin(["config", "apply", "-f", second], env)).code, 0);
  await waitForTitles(sync.id, [...apiTitles, ...webTitles].sort(), "acme/web's issues added");

  // a repository taken out of the list: its records leave the stream now, not at the next sweep (24 h)
  const third = await writeConfig("third.yaml", fileWith("[acme/web]"));
  const removed = await runSequin(["config", "apply", "-f", third], env);
  assert.equal(removed.code, 0, removed.stderr);
  await waitForTitles(sync.id, webTitles, "acme/api's issues deleted");
  const again = await runSequin(["config", "plan", "-f", third], env);
  assert.equal(again.code, 0, `${again.stdout}${again.stderr}`);
});

test("a repository GitHub's rules refuse stops apply naming the field and the rule; nothing changes", async () => {
  const bad = await writeConfig("bad.yaml", fileWith("[acme/web, acme]"));
  const apply = await runSequin(["config", "apply", "-f", bad], env);
  assert.equal(apply.code, 1, `${apply.stdout}${apply.stderr}`);
  assert.match(apply.stderr, /source\.settings\.repositories\[1\]: must be "owner\/name"/);
  assert.deepEqual((await syncNamed("acme-github")).source.settings, { repositories: ["acme/web"] });
});

test("export writes the settings back, and the exported file plans to nothing", async () => {
  const exported = await runSequin(["config", "export"], env);
  assert.equal(exported.code, 0, exported.stderr);
  assert.match(exported.stdout, /^ {6}settings:\n {8}repositories:\n {10}- acme\/web$/m);
  assert.match(exported.stdout, /^ {8}token: \$\{ACME_GITHUB_TOKEN\}$/m);
  const roundTrip = await writeConfig("exported.yaml", exported.stdout);
  const plan = await runSequin(["config", "plan", "-f", roundTrip], {
    ...env,
    ACME_GITHUB_TOKEN: env.GITHUB_TOKEN,
  });
  assert.equal(plan.code, 0, `${plan.stdout}${plan.stderr}`);
});
