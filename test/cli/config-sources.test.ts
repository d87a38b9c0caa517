// biome-ignore-all lint/suspicious/noTemplateCurlyInString: config files hold ${VAR} references literally
/**
 * Syncs that pull their provider, through the config file and `sequin status`, against the Stripe emulator:
 * a file with a Stripe source applied creates the sync with its source and records arrive; a credential
 * written inline is refused at its line, an unset variable is named; a refused key shows Stripe's reason
 * under the sync's name; export never writes the key and plans back to nothing; a changed source field is
 * planned and applied; status shows the source and its collections, exits 1 when a source fails, and 0
 * again once a new key is sent with --update-secrets.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { startStripeEmulator } from "../emulators/stripe/index.js";
import { startTestService } from "../helpers/service.js";
import { waitFor } from "../helpers/wait.js";
import { configFolder } from "./config-folder.js";
import { runSequin } from "./sequin-process.js";

const emulator = await startStripeEmulator({ rateLimitPerSecond: 100 });
const api = await startTestService();
const configs = await configFolder("sequin-config-sources-");
const baseUrl = `http://${emulator.host}:${emulator.port}`;
const env = { SEQUIN_URL: api.url, SEQUIN_API_TOKEN: api.token, STRIPE_API_KEY: emulator.apiKey };

for (let i = 0; i < 5; i++) emulator.create("customers", { email: `c${i}@example.com` });
for (let i = 0; i < 2; i++) emulator.create("products", { name: `p${i}` });

function syncYaml(name: string, key = "${STRIPE_API_KEY}"): string {
  return `  - name: ${name}
    provider: stripe
    collections: [customer, product]
    source:
      credentials:
        api_key: ${key}
      base_url: ${baseUrl}
      max_requests_per_second: 20
      poll_interval_seconds: 0.25
`;
}

const writeConfig = configs.write;

async function syncNamed(name: string) {
  const response = await api.request("GET", "/v1/syncs");
  assert.equal(response.status, 200);
  return response.body.data.find((s: { name: string }) => s.name === name);
}

const file = await writeConfig("sequin.yaml", `syncs:\n${syncYaml("acme-stripe")}`);

test("a Stripe source in the file: plan shows it without the key; apply creates it and records arrive; plan is then empty", async () => {
  const plan = await runSequin(["config", "plan", "-f", file], env);
  assert.equal(plan.code, 2, plan.stderr);
  const lines = plan.stdout.split("\n");
  assert.ok(lines.includes('+ create sync "acme-stripe"'), plan.stdout);
  assert.ok(lines.includes("    source.credentials.api_key: ${STRIPE_API_KEY}"), plan.stdout);
  assert.ok(lines.includes(`    source.base_url: "${baseUrl}"`), plan.stdout);
  assert.ok(!plan.stdout.includes(emulator.apiKey), "the key is never printed");
  assert.equal(await syncNamed("acme-stripe"), undefined, "plan changes nothing");

  const apply = await runSequin(["config", "apply", "-f", file], env);
  assert.equal(apply.code, 0, apply.stderr);
  assert.match(apply.stdout, /^Apply complete: 1 created, 0 updated, 0 deleted\.$/m);
  assert.ok(!apply.stdout.includes(emulator.apiKey));

  const sync = await syncNamed("acme-stripe");
  assert.equal(sync.source?.provider, "stripe", JSON.stringify(sync));
  assert.equal(sync.source.base_url, baseUrl);
  assert.equal(sync.source.max_requests_per_second, 20);
  assert.ok(!JSON.stringify(sync).includes(emulator.apiKey));
  await waitFor("the customers and products pulled into the stream", async () => {
    const s = await syncNamed("acme-stripe");
    const records = Object.fromEntries(
      s.source.collections.map((c: { collection_id: string; records: number }) => [
        c.collection_id,
        c.records,
      ]),
    );
    return s.source.state === "live" && records.customer === 5 && records.product === 2;
  });
  const { rows } = await api.store.pool.query(
    "select count(*)::int as n from sequin_records where sync_id = $1 and collection_id = 'customer'",
    [sync.id],
  );
  assert.equal(rows[0].n, 5);

  const again = await runSequin(["config", "plan", "-f", file], env);
  assert.equal(again.code, 0, `${again.stdout}${again.stderr}`);
  assert.match(again.stdout, /No changes: the server matches the file\./);
});

test("a credential written inline is refused at file:line:col naming the field and the rule, never echoed; an unset variable is named", async () => {
  const literal = await writeConfig("literal.yaml", `syncs:\n${syncYaml("inline-stripe", emulator.apiKey)}`);
  for (const command of ["plan", "apply"]) {
    const run = await runSequin(["config", command, "-f", literal], env);
    assert.equal(run.code, command === "plan" ? 1 : 2, run.stderr);
    assert.match(
      run.stderr,
      /literal\.yaml:7:18: syncs\[0\]\.source\.credentials\.api_key: is a secret: written as a reference to an environment variable, never inline/,
    );
    assert.ok(!`${run.stdout}${run.stderr}`.includes(emulator.apiKey), "the key is never echoed");
  }

  const { STRIPE_API_KEY: _unset, ...withoutKey } = env;
  const unset = await runSequin(["config", "apply", "-f", file], withoutKey);
  assert.equal(unset.code, 2, unset.stderr);
  assert.match(
    unset.stderr,
    /sequin\.yaml:7:18: syncs\[0\]\.source\.credentials\.api_key: environment variable STRIPE_API_KEY is not set/,
  );
  assert.equal(await syncNamed("inline-stripe"), undefined);
});

test("a key Stripe refuses: apply stops under the sync's name with Stripe's reason, and the sync is not created", async () => {
  const key = emulator.createKey();
  emulator.revokeKey(key);
  const refused = await writeConfig(
    "refused.yaml",
    `syncs:\n${syncYaml("acme-stripe")}${syncYaml("revoked-stripe", "${REVOKED_KEY}")}`,
  );
  const apply = await runSequin(["config", "apply", "-f", refused], { ...env, REVOKED_KEY: key });
  assert.equal(apply.code, 1, apply.stderr);
  assert.match(
    apply.stderr,
    /^sequin: apply stopped: create sync "revoked-stripe": stripe refused the credential: .*Invalid API Key provided/m,
  );
  assert.ok(!apply.stderr.includes(key), "the key is never echoed");
  assert.equal(await syncNamed("revoked-stripe"), undefined);
});

test("export writes the source with its key as a reference, never the key, and plans back to nothing", async () => {
  const exported = await runSequin(["config", "export"], env);
  assert.equal(exported.code, 0, exported.stderr);
  assert.ok(!exported.stdout.includes(emulator.apiKey), "the key is never exported");
  assert.match(exported.stdout, /^ {8}api_key: \$\{ACME_STRIPE_API_KEY\}$/m);
  assert.match(exported.stdout, /set ACME_STRIPE_API_KEY before plan or apply/);
  const roundTrip = await writeConfig("exported.yaml", exported.stdout);
  const plan = await runSequin(["config", "plan", "-f", roundTrip], {
    ...env,
    ACME_STRIPE_API_KEY: emulator.apiKey,
  });
  assert.equal(plan.code, 0, `${plan.stdout}${plan.stderr}`);

  const changed = await writeConfig(
    "changed.yaml",
    exported.stdout.replace("poll_interval_seconds: 0.25", "poll_interval_seconds: 0.5"),
  );
  const withKey = { ...env, ACME_STRIPE_API_KEY: emulator.apiKey };
  const change = await runSequin(["config", "plan", "-f", changed], withKey);
  assert.equal(change.code, 2, `${change.stdout}${change.stderr}`);
  assert.match(change.stdout, /^~ update sync "acme-stripe": source\.poll_interval_seconds: 0\.25 → 0\.5$/m);
  assert.doesNotMatch(change.stdout, /api_key/, "an unchanged address does not send the key");
  const applied = await runSequin(["config", "apply", "-f", changed], withKey);
  assert.equal(applied.code, 0, applied.stderr);
  assert.equal((await syncNamed("acme-stripe")).source.poll_interval_seconds, 0.5);
  const back = await runSequin(["config", "apply", "-f", file], env);
  assert.equal(back.code, 0, back.stderr);
  assert.equal((await syncNamed("acme-stripe")).source.poll_interval_seconds, 0.25);
});

test("status shows each sync with its source and collections; a failing source makes it exit 1", async () => {
  const pushed = await api.request("POST", "/v1/syncs", { body: { name: "pushed", provider: "hubspot" } });
  assert.equal(pushed.status, 201);
  const status = await runSequin(["status"], env);
  assert.equal(status.code, 0, `${status.stdout}${status.stderr}`);
  const lines = status.stdout.split("\n");
  assert.ok(lines.includes("no consumers"), status.stdout);
  assert.ok(
    lines.some((l) =>
      /^SYNC\s+PROVIDER\s+SOURCE\s+RECORDS\s+BACKFILL\s+REQUESTS\s+THROTTLED\s+NOTE$/.test(l),
    ),
    status.stdout,
  );
  assert.ok(
    lines.some((l) => /^acme-stripe\s+stripe\s+live\s+7\s+2\/2 done\s+\d+\s+0$/.test(l)),
    status.stdout,
  );
  assert.ok(
    lines.some((l) => /^ {2}customer\s+live\s+5\s+done \(5\)$/.test(l)),
    status.stdout,
  );
  assert.ok(
    lines.some((l) => /^ {2}product\s+live\s+2\s+done \(2\)$/.test(l)),
    status.stdout,
  );
  assert.ok(
    lines.some((l) =>
      /^pushed\s+hubspot\s+-\s+-\s+-\s+-\s+-\s+No source: records are pushed to it\.$/.test(l),
    ),
    status.stdout,
  );
  assert.match(status.stdout, /^2 syncs: 1 live, 0 unhealthy, 1 without a source$/m);

  const json = await runSequin(["status", "--json"], env);
  assert.equal(json.code, 0, json.stderr);
  const body = JSON.parse(json.stdout);
  assert.deepEqual(body.data, []);
  const stripe = body.syncs.find((s: { name: string }) => s.name === "acme-stripe");
  assert.equal(stripe.source.state, "live");
  assert.ok(!json.stdout.includes(emulator.apiKey));

  // paused: shown as such, and not unhealthy
  const acme = await syncNamed("acme-stripe");
  assert.equal((await api.request("POST", `/v1/syncs/${acme.id}/pause`)).status, 200);
  await waitFor(
    "the source to be paused",
    async () => (await syncNamed("acme-stripe")).source.state === "paused",
  );
  const paused = await runSequin(["status"], env);
  assert.equal(paused.code, 0, `${paused.stdout}${paused.stderr}`);
  const pausedLine = paused.stdout.split("\n").find((l) => l.startsWith("acme-stripe"));
  assert.match(
    pausedLine ?? paused.stdout,
    /^acme-stripe\s+stripe\s+paused\s+7\s.*Paused: the provider is not asked/,
  );
  assert.match(paused.stdout, /^2 syncs: 1 paused, 0 unhealthy, 1 without a source$/m);
  assert.equal((await api.request("POST", `/v1/syncs/${acme.id}/resume`)).status, 200);

  // a key revoked while the sync runs: the source fails on its next poll
  const key = emulator.createKey();
  const failing = await writeConfig("failing.yaml", `syncs:\n${syncYaml("doomed-stripe", "${DOOMED_KEY}")}`);
  const apply = await runSequin(["config", "apply", "-f", failing], { ...env, DOOMED_KEY: key });
  assert.equal(apply.code, 0, apply.stderr);
  await waitFor(
    "the new sync to go live",
    async () => (await syncNamed("doomed-stripe")).source.state === "live",
  );
  emulator.revokeKey(key);
  await waitFor(
    "the source to fail",
    async () => (await syncNamed("doomed-stripe")).source.state === "failing",
  );

  const down = await runSequin(["status"], env);
  assert.equal(down.code, 1, `${down.stdout}${down.stderr}`);
  const line = down.stdout.split("\n").find((l) => l.startsWith("doomed-stripe"));
  assert.match(line ?? down.stdout, /^doomed-stripe\s+stripe\s+failing\s.*Invalid API Key provided/);
  assert.ok(!down.stdout.includes(key));
  assert.match(down.stdout, /^3 syncs: 1 live, 1 unhealthy, 1 without a source$/m);
  assert.equal((await runSequin(["status", "--json"], env)).code, 1);

  // a new key through the file: --update-secrets sends it, the server tries it, the source runs again
  const newKey = emulator.createKey();
  const rotate = await runSequin(["config", "apply", "-f", failing, "--update-secrets"], {
    ...env,
    DOOMED_KEY: newKey,
  });
  assert.equal(rotate.code, 0, rotate.stderr);
  assert.match(
    rotate.stdout,
    /~ update sync "doomed-stripe": source\.credentials\.api_key: \(secret\) → \$\{DOOMED_KEY\}/,
  );
  assert.ok(!rotate.stdout.includes(newKey));
  await waitFor(
    "the source to run again",
    async () => (await syncNamed("doomed-stripe")).source.state === "live",
  );
  const up = await runSequin(["status"], env);
  assert.equal(up.code, 0, `${up.stdout}${up.stderr}`);
  assert.match(up.stdout, /^3 syncs: 2 live, 0 unhealthy, 1 without a source$/m);
});
