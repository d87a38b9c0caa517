import assert from "node:assert/strict";
import { test } from "node:test";
import { defaults, loadConfig } from "../../src/config.js";
import { SequinError } from "../../src/errors.js";

function refusal(env: Record<string, string>): string {
  try {
    loadConfig(env, "/srv");
  } catch (error) {
    assert.ok(error instanceof SequinError);
    assert.equal(error.code, "config_invalid");
    return error.message;
  }
  assert.fail(`accepted ${JSON.stringify(env)}`);
}

const cases: { env: Record<string, string>; rule: RegExp; seen: string }[] = [
  { env: { SEQUIN_DATABASE_URL: "mysql://db/app" }, rule: /postgres:\/\//, seen: '"mysql://db/app"' },
  { env: { SEQUIN_DATABASE_URL: "not a url" }, rule: /valid URL/, seen: '"not a url"' },
  { env: { SEQUIN_HOST: "bad host!" }, rule: /host name or IP/, seen: '"bad host!"' },
  { env: { SEQUIN_PORT: "70000" }, rule: /whole number from 0 to 65535/, seen: '"70000"' },
  { env: { SEQUIN_PORT: "http" }, rule: /whole number/, seen: '"http"' },
  { env: { SEQUIN_PORT: "-1" }, rule: /whole number/, seen: '"-1"' },
  { env: { SEQUIN_URL: "ftp://files" }, rule: /http:\/\/ or https:\/\//, seen: '"ftp://files"' },
  { env: { SEQUIN_LAG_ALERT_SECONDS: "0" }, rule: /whole number from 1/, seen: '"0"' },
  { env: { SEQUIN_LAG_ALERT_SECONDS: "1.5" }, rule: /whole number/, seen: '"1.5"' },
  { env: { SEQUIN_SMTP_URL: "http://mail" }, rule: /smtp:\/\/ or smtps:\/\//, seen: '"http://mail"' },
  {
    env: { SEQUIN_SMTP_URL: "smtp://mail:587" },
    rule: /needs SEQUIN_ALERT_EMAIL_FROM and SEQUIN_ALERT_EMAIL_TO/,
    seen: '"smtp://mail:587"',
  },
  { env: { SEQUIN_ALERT_EMAIL_FROM: "nobody" }, rule: /email address/, seen: '"nobody"' },
  {
    env: { SEQUIN_ALERT_EMAIL_TO: "a@b.example, nope" },
    rule: /comma-separated/,
    seen: '"a@b.example, nope"',
  },
  { env: { SEQUIN_ALERT_WEBHOOK_URL: "hooks.example" }, rule: /valid URL/, seen: '"hooks.example"' },
  { env: { SEQUIN_LOG_LEVEL: "loud" }, rule: /one of fatal, error, warn, info/, seen: '"loud"' },
  { env: { SEQUIN_ROLE: "workers" }, rule: /one of all, api, worker/, seen: '"workers"' },
];

test("each invalid variable is refused naming the variable, the rule and the value seen", () => {
  for (const c of cases) {
    const [name] = Object.keys(c.env);
    const message = refusal(c.env);
    assert.match(message, new RegExp(`${name} `), message);
    assert.match(message, c.rule, message);
    assert.ok(message.includes(`(got ${c.seen})`), message);
  }
});

test("secrets are named but their values are not echoed", () => {
  const token = refusal({ SEQUIN_API_TOKEN: "short-secret" });
  assert.match(token, /SEQUIN_API_TOKEN must be at least 16 characters/);
  assert.doesNotMatch(token, /short-secret/);

  const key = refusal({ SEQUIN_VAULT_KEY: "c2VjcmV0LWtleQ==" });
  assert.match(key, /SEQUIN_VAULT_KEY must be 32 bytes encoded as base64/);
  assert.doesNotMatch(key, /c2VjcmV0LWtleQ/);

  const smtp = refusal({ SEQUIN_SMTP_URL: "smtp://user:hunter2@mail:587" });
  assert.match(smtp, /SEQUIN_SMTP_URL/);
  assert.doesNotMatch(smtp, /hunter2/);

  // refused URLs are shown without their password, even one that makes them invalid
  const urls = refusal({
    SEQUIN_DATABASE_URL: "mysql://app:hunter2@db/app",
    SEQUIN_SMTP_URL: "smtp://user:hun/ter@2@mail:port",
    SEQUIN_ALERT_WEBHOOK_URL: "ftp://hook:hunter2@hooks.example/x",
  });
  assert.ok(
    urls.includes(
      'SEQUIN_DATABASE_URL must be a URL starting with postgres:// or postgresql:// (got "mysql://app:***@db/app")',
    ),
    urls,
  );
  assert.ok(urls.includes('SEQUIN_SMTP_URL must be a valid URL (got "smtp://user:***@mail:port")'), urls);
  assert.ok(urls.includes('(got "ftp://hook:***@hooks.example/x")'), urls);
  assert.doesNotMatch(urls, /hunter|ter@2/);
});

test("all problems are reported at once", () => {
  const message = refusal({ SEQUIN_PORT: "x", SEQUIN_LOG_LEVEL: "y", SEQUIN_HOST: "a b" });
  for (const name of ["SEQUIN_PORT", "SEQUIN_LOG_LEVEL", "SEQUIN_HOST"])
    assert.match(message, new RegExp(name));
});

test("defaults, and valid values of every variable", () => {
  const empty = loadConfig({}, "/srv");
  assert.equal(empty.databaseUrl, undefined);
  assert.equal(empty.dataDir, "/srv/.sequin");
  assert.equal(empty.host, defaults.host);
  assert.equal(empty.port, 7376);
  assert.equal(empty.apiToken, undefined);
  assert.equal(empty.url, "http://127.0.0.1:7376");
  assert.equal(empty.lagAlertSeconds, 300);
  assert.equal(empty.role, "all");

  const key = Buffer.alloc(32, 7).toString("base64");
  const full = loadConfig(
    {
      SEQUIN_DATABASE_URL: "postgres://u:p@db:5432/sequin",
      SEQUIN_DATA_DIR: "data",
      SEQUIN_HOST: "0.0.0.0",
      SEQUIN_PORT: "0",
      SEQUIN_API_TOKEN: "a-token-of-sixteen-chars",
      SEQUIN_VAULT_KEY: key,
      SEQUIN_URL: "https://sequin.internal",
      SEQUIN_LAG_ALERT_SECONDS: "60",
      SEQUIN_SMTP_URL: "smtps://u:p@mail:465",
      SEQUIN_ALERT_EMAIL_FROM: "sequin@example.com",
      SEQUIN_ALERT_EMAIL_TO: "a@example.com, b@example.com",
      SEQUIN_ALERT_WEBHOOK_URL: "https://hooks.example/sequin",
      SEQUIN_ALERT_WEBHOOK_SECRET: "s3cret",
      SEQUIN_LOG_LEVEL: "debug",
      SEQUIN_ROLE: "worker",
    },
    "/srv",
  );
  assert.equal(full.dataDir, "/srv/data");
  assert.equal(full.port, 0);
  assert.equal(full.vaultKey?.length, 32);
  assert.deepEqual(full.alertEmailTo, ["a@example.com", "b@example.com"]);
  assert.equal(full.logLevel, "debug");
  assert.equal(full.role, "worker");
});

test("SEQUIN_URL defaults to where SEQUIN_HOST and SEQUIN_PORT make the server listen", () => {
  const url = (env: Record<string, string>) => {
    const config = loadConfig(env, "/srv");
    return [config.url, config.urlFromEnv];
  };
  assert.deepEqual(url({}), ["http://127.0.0.1:7376", false]);
  assert.deepEqual(url({ SEQUIN_PORT: "7400" }), ["http://127.0.0.1:7400", false]);
  assert.deepEqual(url({ SEQUIN_HOST: "10.1.2.3", SEQUIN_PORT: "7400" }), ["http://10.1.2.3:7400", false]);
  assert.deepEqual(url({ SEQUIN_HOST: "::1", SEQUIN_PORT: "7400" }), ["http://[::1]:7400", false]);
  for (const any of ["0.0.0.0", "::"])
    assert.deepEqual(url({ SEQUIN_HOST: any }), ["http://127.0.0.1:7376", false], any);
  assert.deepEqual(url({ SEQUIN_PORT: "0" }), [undefined, false], "any free port: nowhere to know");
  assert.deepEqual(url({ SEQUIN_PORT: "0", SEQUIN_URL: "https://sequin.internal" }), [
    "https://sequin.internal",
    true,
  ]);
});
