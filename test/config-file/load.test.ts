// biome-ignore-all lint/suspicious/noTemplateCurlyInString: config files hold ${VAR} references literally
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  ConfigFileError,
  type ConfigProblem,
  type Env,
  type LoadedConfig,
  parseConfigSources,
} from "../../src/config-file/index.js";

const base = `syncs:
  - name: acme-hubspot
    provider: hubspot
    collections: [contact, deal]
targets:
  - name: app
    postgres:
      host: db.internal
      port: 5432
      database: app
      username: sequin
      password: \${APP_DB_PASSWORD}
      ssl: require
consumers:
  - name: hubspot-to-app
    target: app
    filter: { provider: hubspot }
    table: { schema: crm, name: records }
    active: true
`;

const env: Env = { APP_DB_PASSWORD: "s3cret-pw" };

function load(text: string, more: { file: string; text: string }[] = [], withEnv: Env = env): LoadedConfig {
  return parseConfigSources([{ file: "sequin.yaml", text }, ...more], withEnv);
}

function problems(text: string, more: { file: string; text: string }[] = [], withEnv: Env = env) {
  try {
    load(text, more, withEnv);
  } catch (error) {
    assert.ok(error instanceof ConfigFileError, String(error));
    assert.ok(!error.message.includes("s3cret-pw"), "a secret is never echoed");
    return error.problems;
  }
  assert.fail("the file was accepted");
}

function only(found: ConfigProblem[]): ConfigProblem {
  assert.equal(found.length, 1, JSON.stringify(found, null, 2));
  return found[0]!;
}

test("the example file loads: secrets from the environment, with the variable they came from", () => {
  const { config } = load(base);
  assert.deepEqual(config.syncs, [
    { name: "acme-hubspot", provider: "hubspot", collections: ["contact", "deal"] },
  ]);
  assert.equal(config.targets[0]!.postgres.password, "s3cret-pw");
  assert.deepEqual(config.secretRefs.get("app"), { password: "APP_DB_PASSWORD" });
  assert.deepEqual(config.consumers[0]!.filter, { provider: "hubspot" });
  assert.equal(config.consumers[0]!.active, true);
  assert.deepEqual(load("").config, {
    syncs: [],
    targets: [],
    consumers: [],
    secretRefs: new Map(),
    credentialRefs: new Map(),
  });
});

test("each validation error names the file, line, column and path", () => {
  const cases: { name: string; text: string; line: number; path: string; message: RegExp }[] = [
    {
      name: "unknown key",
      text: base.replace("      port: 5432", "      port: 5432\n      prot: 1"),
      line: 10,
      path: "targets[0].postgres.prot",
      message: /unknown key "prot"/,
    },
    {
      name: "wrong type",
      text: base.replace("port: 5432", 'port: "5432"'),
      line: 9,
      path: "targets[0].postgres.port",
      message: /must be a number \(found the text "5432"\)/,
    },
    {
      name: "dangling target",
      text: base.replace("target: app", "target: ap"),
      line: 16,
      path: "consumers[0].target",
      message: /no target named "ap" in the file \(targets: app\)/,
    },
    {
      name: "dangling sync",
      text: base.replace("filter: { provider: hubspot }", "filter: { sync: acme }"),
      line: 17,
      path: "consumers[0].filter.sync",
      message: /no sync named "acme" in the file \(syncs: acme-hubspot\)/,
    },
    {
      name: "duplicate name",
      text: base.replace("targets:", "  - name: acme-hubspot\n    provider: hubspot\ntargets:"),
      line: 5,
      path: "syncs[1].name",
      message: /duplicate sync name "acme-hubspot" \(first at line 2\)/,
    },
    {
      name: "inline secret",
      text: base.replace("${APP_DB_PASSWORD}", "hunter2"),
      line: 12,
      path: "targets[0].postgres.password",
      message: /never inline/,
    },
    {
      name: "secret with a default",
      text: base.replace("${APP_DB_PASSWORD}", "${APP_DB_PASSWORD:-hunter2}"),
      line: 12,
      path: "targets[0].postgres.password",
      message: /never inline/,
    },
    {
      name: "unset variable",
      text: base.replace("db.internal", "${DB_HOST}"),
      line: 8,
      path: "targets[0].postgres.host",
      message: /environment variable DB_HOST is not set/,
    },
    {
      name: "missing field",
      text: base.replace("    table: { schema: crm, name: records }\n", ""),
      line: 15,
      path: "consumers[0].table",
      message: /is required/,
    },
    {
      name: "API rule",
      text: base.replace("provider: hubspot\n", "provider: HubSpot\n"),
      line: 3,
      path: "syncs[0].provider",
      message: /lowercase/,
    },
    {
      name: "not YAML",
      text: base.replace("collections: [contact, deal]", "collections: [contact, deal"),
      line: 5,
      path: "",
      message: /not valid YAML/,
    },
  ];
  for (const c of cases) {
    const problem = only(problems(c.text));
    assert.equal(problem.file, "sequin.yaml", c.name);
    assert.equal(problem.line, c.line, `${c.name}: ${JSON.stringify(problem)}`);
    assert.ok(problem.column > 0, c.name);
    assert.equal(problem.path, c.path, c.name);
    assert.match(problem.message, c.message, c.name);
  }
});

test("all problems are reported at once, in line order, as file:line:column: path: message", () => {
  const text = base
    .replace("port: 5432", "port: five")
    .replace("target: app", "target: nowhere")
    .replace("active: true", "active: yes");
  try {
    load(text);
    assert.fail("accepted");
  } catch (error) {
    assert.ok(error instanceof ConfigFileError);
    assert.deepEqual(
      error.problems.map((p) => p.line),
      [9, 16, 19],
    );
    assert.match(error.message, /^ {2}sequin\.yaml:9:13: targets\[0\]\.postgres\.port: must be a number/m);
  }
});

test("${VAR:-default}, typed plain references, $${ escapes; a bad reference names its line", () => {
  const text = base
    .replace("host: db.internal", "host: ${DB_HOST:-localhost}")
    .replace("port: 5432", "port: ${DB_PORT:-5432}")
    .replace("database: app", () => 'database: "app_$${literal}"')
    .replace("active: true", "active: ${ACTIVE:-false}");
  const { config } = load(text, [], { ...env, DB_PORT: "6543" });
  assert.equal(config.targets[0]!.postgres.host, "localhost");
  assert.equal(config.targets[0]!.postgres.port, 6543);
  assert.equal(config.targets[0]!.postgres.database, "app_${literal}");
  assert.equal(config.consumers[0]!.active, false);

  const bad = only(problems(base.replace("host: db.internal", "host: ${DB HOST}")));
  assert.deepEqual([bad.line, bad.path], [8, "targets[0].postgres.host"]);
  assert.match(bad.message, /is not a reference/);
});

test("override files merge by name; their problems point into the override file", () => {
  const dev = `targets:
  - name: app
    postgres:
      host: localhost
      database: app_alice
      password: \${DEV_DB_PASSWORD}
      ssl: disable
consumers:
  - name: hubspot-to-app
    table: { schema: alice, name: records }
  - name: extra
    target: app
    filter: { provider: salesforce }
    table: { schema: alice, name: sf }
`;
  const { config } = load(base, [{ file: "sequin.dev.yaml", text: dev }], { DEV_DB_PASSWORD: "dev-pw" });
  assert.deepEqual(config.targets[0]!.postgres, {
    host: "localhost",
    port: 5432,
    database: "app_alice",
    username: "sequin",
    password: "dev-pw",
    ssl: "disable",
  });
  assert.deepEqual(config.secretRefs.get("app"), { password: "DEV_DB_PASSWORD" });
  assert.deepEqual(
    config.consumers.map((c) => [c.name, c.target, c.table.schema, c.active]),
    [
      ["hubspot-to-app", "app", "alice", true],
      ["extra", "app", "alice", undefined],
    ],
  );

  const wrong = only(
    problems(base, [{ file: "sequin.dev.yaml", text: dev.replace("ssl: disable", "ssl: sometimes") }], {
      DEV_DB_PASSWORD: "dev-pw",
    }),
  );
  assert.deepEqual([wrong.file, wrong.line, wrong.path], ["sequin.dev.yaml", 7, "targets[0].postgres.ssl"]);
});

const sourced = `syncs:
  - name: acme-stripe
    provider: stripe
    collections: [customer]
    source:
      credentials:
        api_key: \${STRIPE_API_KEY}
      base_url: http://127.0.0.1:12111
      max_requests_per_second: 20
`;

test("a sync's source: credentials from the environment, with the variable each field came from", () => {
  const { config } = load(sourced, [], { STRIPE_API_KEY: "sk_test_s3cret" });
  assert.deepEqual(config.syncs[0]!.source, {
    credentials: { api_key: "sk_test_s3cret" },
    base_url: "http://127.0.0.1:12111",
    max_requests_per_second: 20,
  });
  assert.deepEqual(config.credentialRefs.get("acme-stripe"), { api_key: "STRIPE_API_KEY" });
});

test("a source's credential written inline is refused at its line, naming the field and the rule, never echoing it", () => {
  for (const literal of ["sk_live_s3cret", "${STRIPE_API_KEY:-sk_live_s3cret}", "12345"]) {
    const text = sourced.replace("${STRIPE_API_KEY}", literal);
    let problem: ConfigProblem | undefined;
    try {
      load(text, [], { STRIPE_API_KEY: "sk_test_s3cret" });
    } catch (error) {
      assert.ok(error instanceof ConfigFileError, String(error));
      assert.ok(!error.message.includes("s3cret") && !error.message.includes("12345"), error.message);
      assert.match(
        error.message,
        /^ {2}sequin\.yaml:7:18: syncs\[0\]\.source\.credentials\.api_key: is a secret: written as a reference to an environment variable, never inline/m,
      );
      problem = only(error.problems);
    }
    assert.ok(problem, `${literal} was accepted`);
    assert.match(problem!.message, /e\.g\. \$\{ACME_STRIPE_API_KEY\}/);
  }
  const whole = only(
    problems(sourced.replace(/ {6}credentials:\n.*\n/, "      credentials: sk_live_s3cret\n")),
  );
  assert.equal(whole.path, "syncs[0].source.credentials");
  assert.equal(whole.line, 6);
  assert.doesNotMatch(whole.message, /s3cret/);
});

test("a credential field the provider does not keep secret may be written inline; its secrets may not", () => {
  const connect = sourced.replace(
    "        api_key: ${STRIPE_API_KEY}\n",
    "        api_key: ${STRIPE_API_KEY}\n        stripe_account: acct_1Nv0FGQ9RKHgCVdK\n",
  );
  const { config } = load(connect, [], { STRIPE_API_KEY: "sk_test_s3cret" });
  assert.deepEqual(config.syncs[0]!.source?.credentials, {
    api_key: "sk_test_s3cret",
    stripe_account: "acct_1Nv0FGQ9RKHgCVdK",
  });
  assert.deepEqual(config.credentialRefs.get("acme-stripe"), { api_key: "STRIPE_API_KEY" });

  const salesforce = `syncs:
  - name: acme-salesforce
    provider: salesforce
    source:
      credentials:
        instance_url: https://acme.my.salesforce.com
        client_id: 3MVG9abc
        refresh_token: 5Aep861s3cret
        client_secret: \${SF_CLIENT_SECRET}
`;
  const refused = only(problems(salesforce, [], { SF_CLIENT_SECRET: "x" }));
  assert.equal(refused.path, "syncs[0].source.credentials.refresh_token");
  assert.match(refused.message, /is a secret: written as a reference/);
  assert.doesNotMatch(refused.message, /s3cret/);
  const fixed = salesforce.replace("5Aep861s3cret", "${SF_REFRESH_TOKEN}");
  const loaded = load(fixed, [], { SF_CLIENT_SECRET: "x", SF_REFRESH_TOKEN: "5Aep" }).config;
  assert.deepEqual(loaded.syncs[0]!.source?.credentials, {
    instance_url: "https://acme.my.salesforce.com",
    client_id: "3MVG9abc",
    refresh_token: "5Aep",
    client_secret: "x",
  });
  // a field no provider lists is a secret: never inline
  const unknown = only(problems(sourced.replace("api_key: ${STRIPE_API_KEY}", "mystery: plain"), [], {}));
  assert.equal(unknown.path, "syncs[0].source.credentials.mystery");
});

test("a source's credential from an unset variable is an error naming the variable", () => {
  const problem = only(problems(sourced, [], {}));
  assert.equal(problem.line, 7);
  assert.equal(problem.column, 18);
  assert.equal(problem.path, "syncs[0].source.credentials.api_key");
  assert.match(problem.message, /environment variable STRIPE_API_KEY is not set/);
});
