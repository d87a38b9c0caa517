// biome-ignore-all lint/suspicious/noTemplateCurlyInString: config files hold ${VAR} references literally
import assert from "node:assert/strict";
import { test } from "node:test";
import type { ServerState } from "../../src/api-client.js";
import {
  exportConfig,
  type Plan,
  parseConfigSources,
  planChanges,
  planText,
  variablePrefix,
} from "../../src/config-file/index.js";

const targetId = "00000000-0000-4000-8000-000000000001";
const syncId = "00000000-0000-4000-8000-000000000002";
const keyId = "00000000-0000-4000-8000-000000000003";
const fingerprint = `SHA256:${"A".repeat(43)}`;
const health = { status: "healthy" as const, notes: [], checks: [], time: "2024-01-01T00:00:00Z" };

/** A server with one sync, one target behind a bastion (a key made by the service) and one live consumer. */
function server(): ServerState {
  return {
    syncs: [
      {
        id: syncId,
        name: "acme",
        provider: "hubspot",
        collections: ["contact"],
        external_id: null,
        metadata: {},
        inserted_at: "2024-01-01T00:00:00Z",
      },
    ],
    targets: [
      {
        id: targetId,
        name: "app",
        connection: { host: "db.internal", port: 5432, database: "app", username: "sequin", ssl: "require" },
        ssh_tunnel: {
          host: "bastion.internal",
          port: 22,
          username: "tunnel",
          host_key_fingerprint: fingerprint,
          host_key_source: "first_use",
          key_id: keyId,
          public_key: "ssh-ed25519 AAAA sequin",
        },
        health,
        inserted_at: "2024-01-01T00:00:00Z",
        updated_at: "2024-01-01T00:00:00Z",
      },
    ],
    consumers: [
      {
        id: "00000000-0000-4000-8000-000000000004",
        name: "to-app",
        target_id: targetId,
        filter: { sync_id: syncId },
        table: { schema: "crm", name: "records" },
        create_table_sql: "",
        state: "live",
        health,
        lag: { records: 0, seconds: 0 },
        stats: { upserted: 0, deleted: 0, last_applied_at: null },
        backfill: null,
        last_error: null,
        lag_alert_seconds: null,
        warnings: [],
        state_changed_at: "2024-01-01T00:00:00Z",
        inserted_at: "2024-01-01T00:00:00Z",
        updated_at: "2024-01-01T00:00:00Z",
      },
    ],
  };
}

const env = { APP_PASSWORD: "pw", BASTION_KEY: "-----BEGIN OPENSSH PRIVATE KEY-----" };

function plan(text: string, options = {}): Plan {
  return planChanges(parseConfigSources([{ file: "sequin.yaml", text }], env), server(), options);
}

const exported = exportConfig(server());

test("export writes secrets as references, the service's key by id, and plans back to nothing", () => {
  assert.match(exported, /^ {6}password: \$\{APP_PASSWORD\}$/m);
  assert.match(exported, new RegExp(`^ {6}key_id: ${keyId}$`, "m"));
  assert.match(exported, /^ {4}filter: \{ sync: acme \}$/m);
  assert.match(
    exported,
    /^# Secrets are read from the environment: set APP_PASSWORD before plan or apply\.$/m,
  );
  assert.deepEqual(plan(exported).actions, []);
  assert.deepEqual(plan(exported, { updateSecrets: true }).actions[0]!.changes, [
    { field: "postgres.password", from: null, to: "${APP_PASSWORD}", secret: true },
  ]);
});

test("a changed connection sends the password with it; left-out optional fields are not managed", () => {
  const text = exported
    .replace("host: db.internal", "host: db2.internal")
    .replace(/ {6}ssl: require\n/, "")
    .replace(/ {4}ssh_tunnel:[\s\S]*?(?=consumers:)/, "");
  const [action] = plan(text).actions;
  assert.deepEqual(action!.changes, [
    { field: "postgres.host", from: "db.internal", to: "db2.internal" },
    { field: "postgres.password", from: null, to: "${APP_PASSWORD}", secret: true },
  ]);
  assert.equal(plan(text).actions.length, 1);
});

test("ssh_tunnel: null removes the tunnel; a private key in place of the service's key is a change", () => {
  const removed = plan(exported.replace(/ {4}ssh_tunnel:[\s\S]*?(?=consumers:)/, "    ssh_tunnel: null\n"));
  assert.deepEqual(
    removed.actions[0]!.changes.map((c) => [c.field, c.to]),
    [
      ["ssh_tunnel.host", null],
      ["ssh_tunnel.port", null],
      ["ssh_tunnel.username", null],
    ],
  );
  const ownKey = plan(exported.replace(`key_id: ${keyId}`, "private_key: ${BASTION_KEY}"));
  assert.deepEqual(
    ownKey.actions[0]!.changes.map((c) => [c.field, c.from, c.to]),
    [
      ["ssh_tunnel.key_id", keyId, null],
      ["ssh_tunnel.private_key", null, "${BASTION_KEY}"],
    ],
  );
  assert.ok(!planText(ownKey).includes(env.BASTION_KEY));
});

test("a filter of another kind, a dropped collection and a provider change", () => {
  const other = plan(exported.replace("filter: { sync: acme }", "filter: { provider: hubspot }"));
  assert.deepEqual(
    other.actions[0]!.changes.map((c) => [c.field, c.from, c.to]),
    [
      ["filter.sync", "acme", null],
      ["filter.provider", null, "hubspot"],
    ],
  );
  const dropped = planText(plan(exported.replace("collections: [ contact ]", "collections: [ deal ]")));
  assert.match(dropped, /~ update sync "acme": collections: \["contact"\] → \["deal"\]/);
  assert.match(
    dropped,
    /note: collection\(s\) "contact" leave the sync: their records are deleted from the stream/,
  );
  assert.throws(
    () => plan(exported.replace("provider: hubspot", "provider: salesforce")),
    /sequin\.yaml:6:15: syncs\[0\]\.provider: the server's sync "acme" has provider "hubspot": a sync's provider cannot change/,
  );
});

test("target names become variable names", () => {
  assert.equal(variablePrefix("app"), "APP");
  assert.equal(variablePrefix("my-db.eu"), "MY_DB_EU");
  assert.equal(variablePrefix("warehouseProd"), "WAREHOUSE_PROD");
  assert.equal(variablePrefix("1st"), "TARGET_1ST");
});

const source = {
  provider: "stripe",
  base_url: "http://127.0.0.1:12111",
  max_requests_per_second: 20,
  poll_interval_seconds: 5,
  state: "live" as const,
  collections: [],
  rebackfill: null,
  last_error: null,
  failing_since: null,
  requests: 10,
  throttled: 0,
  worker_id: null,
};

/** The server above with a sync that pulls Stripe. */
function sourcedServer(): ServerState {
  const state = server();
  state.syncs.push({
    ...state.syncs[0]!,
    id: "00000000-0000-4000-8000-000000000005",
    name: "acme-stripe",
    provider: "stripe",
    collections: ["customer"],
    source: source as never,
  });
  return state;
}

const stripeEnv = { ...env, ACME_STRIPE_API_KEY: "sk_test_s3cret" };

function planSourced(text: string, state: ServerState = sourcedServer(), options = {}): Plan {
  return planChanges(parseConfigSources([{ file: "sequin.yaml", text }], stripeEnv), state, options);
}

test("export writes a source with its credential as a reference and plans back to nothing", () => {
  const text = exportConfig(sourcedServer());
  assert.doesNotMatch(text, /sk_test/);
  assert.match(text, /^ {8}api_key: \$\{ACME_STRIPE_API_KEY\}$/m);
  assert.match(text, /^ {8}# never returned by the server: set ACME_STRIPE_API_KEY before plan or apply$/m);
  assert.match(
    text,
    /^# Secrets are read from the environment: set ACME_STRIPE_API_KEY, APP_PASSWORD before/m,
  );
  assert.match(text, /^ {6}base_url: http:\/\/127\.0\.0\.1:12111$/m);
  const again = planSourced(text);
  assert.deepEqual(again.actions, []);
  // a push sync exports without a source
  assert.doesNotMatch(text.split("- name: acme-stripe")[0]!, /source:/);

  // on a server without it, the sync is created with its source; the key never printed
  const empty = sourcedServer();
  empty.syncs = empty.syncs.filter((s) => s.name !== "acme-stripe");
  const create = planSourced(text, empty);
  const shown = planText(create);
  assert.match(
    shown,
    /^\+ create sync "acme-stripe"\n {4}provider: "stripe"\n {4}collections: \["customer"\]\n {4}source\.credentials\.api_key: \$\{ACME_STRIPE_API_KEY\}\n {4}source\.base_url: "http:\/\/127\.0\.0\.1:12111"$/m,
  );
  assert.ok(!shown.includes("sk_test_s3cret"));
  assert.ok(!JSON.stringify(create).includes("sk_test_s3cret"));

  // a credential field that is no secret, written inline, is shown as it is; the key still by its reference
  const connect = text.replace(/^( {8}api_key: .*)$/m, "$1\n        stripe_account: acct_1Nv0FGQ9RKHgCVdK");
  const shownConnect = planText(planSourced(connect, empty));
  assert.match(shownConnect, /^ {4}source\.credentials\.stripe_account: "acct_1Nv0FGQ9RKHgCVdK"$/m);
  assert.match(shownConnect, /^ {4}source\.credentials\.api_key: \$\{ACME_STRIPE_API_KEY\}$/m);
  assert.ok(!shownConnect.includes("sk_test_s3cret"));
});

test("an existing sync's source: changed fields are planned, a new address or --update-secrets sends the key; none can be added to a pushed sync", () => {
  const text = exportConfig(sourcedServer());
  const slower = planSourced(text.replace("max_requests_per_second: 20", "max_requests_per_second: 10"));
  assert.deepEqual(slower.actions[0]!.changes, [
    { field: "source.max_requests_per_second", from: 20, to: 10 },
  ]);
  assert.match(planText(slower), /~ update sync "acme-stripe": source\.max_requests_per_second: 20 → 10/);

  const moved = planSourced(text.replace("http://127.0.0.1:12111", "https://api.stripe.com"));
  assert.deepEqual(moved.actions[0]!.changes, [
    { field: "source.base_url", from: "http://127.0.0.1:12111", to: "https://api.stripe.com" },
    { field: "source.credentials.api_key", from: null, to: "${ACME_STRIPE_API_KEY}", secret: true },
  ]);

  const rotated = planSourced(text, sourcedServer(), { updateSecrets: true });
  const sync = rotated.actions.find((a) => a.kind === "sync")!;
  assert.equal(sync.name, "acme-stripe");
  assert.deepEqual(sync.changes, [
    { field: "source.credentials.api_key", from: null, to: "${ACME_STRIPE_API_KEY}", secret: true },
  ]);
  const shown = planText(rotated);
  assert.match(
    shown,
    /~ update sync "acme-stripe": source\.credentials\.api_key: \(secret\) → \$\{ACME_STRIPE_API_KEY\}/,
  );
  assert.ok(!shown.includes("sk_test_s3cret"));

  const pushed = sourcedServer();
  delete pushed.syncs[1]!.source;
  assert.throws(
    () => planSourced(text, pushed),
    /syncs\[1\]\.source: the server's sync "acme-stripe" has no source \(its records are pushed\): a source cannot be added to it/,
  );
});
