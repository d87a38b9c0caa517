/**
 * Secrets never leave. `sequin start` runs as a child process at log level trace with every secret it can
 * hold: target passwords, a target behind a bastion with a passphrase-protected key, SMTP credentials,
 * a webhook secret, its API token, its vault key and its store's password. Connections fail (wrong
 * password, unreachable host, wrong passphrase), a target and the bastion go down so probes fail and
 * alerts go out. Then everything the service let out is searched for every secret in every encoding:
 * every log line, every API answer (every GET route of the OpenAPI document and the failed requests), every
 * console page a signed-in user can reach, `sequin config export` and `sequin status`, and /metrics.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import pg from "pg";
import { runSequin, spawnSequin } from "../cli/sequin-process.js";
import { startWebhookReceiver } from "../helpers/alert-receivers.js";
import { onCleanup } from "../helpers/cleanup.js";
import { startOwnCluster } from "../helpers/clusters.js";
import { crawlConsole, signInToConsole } from "../helpers/console-crawl.js";
import { createSeedTarget, type TargetDatabase } from "../helpers/consumer-world.js";
import { createTestStore } from "../helpers/database.js";
import { type ApiResponse, apiClient } from "../helpers/service.js";
import { sshKeygenPair, startSshServer } from "../helpers/ssh-server.js";
import { waitFor } from "../helpers/wait.js";
import { findSecrets, keySecretBody } from "./secret-scan.js";
import { startSmtpServerWithLogin } from "./smtp-with-login.js";

const tag = randomBytes(3).toString("hex");
/** Distinctive, and with characters that URL, JSON and HTML encodings change. */
const secret = (name: string) => `${name}-${tag}-${randomBytes(9).toString("base64url")} :/?#&=+é"<\\`;

const passwords = {
  down: secret("down-target-password"),
  tunnelled: secret("tunnelled-target-password"),
  wrong: secret("wrong-password"),
  unreachable: secret("unreachable-target-password"),
  patched: secret("patched-password"),
  typedInConsole: secret("console-password"),
};
const passphrase = secret("key-passphrase");
const smtpPassword = secret("smtp-password");
const webhookSecret = secret("webhook-secret");
const apiToken = `sqn_token_${tag}_${randomBytes(16).toString("hex")}`;
const vaultKey = randomBytes(32).toString("base64");

const inbox = await startSmtpServerWithLogin("alerts", smtpPassword);
const webhook = await startWebhookReceiver();
const cluster = await startOwnCluster();
const bastion = await startSshServer();
const key = await sshKeygenPair(passphrase);
await bastion.authorize(key.publicKey);
const store = await createTestStore();
const down = await createSeedTarget(cluster.url());
const tunnelled = await createSeedTarget();
for (const [db, password] of [
  [down, passwords.down],
  [tunnelled, passwords.tunnelled],
] as const) {
  await db.admin.query(`alter user ${db.user} password ${pg.escapeLiteral(password)}`);
  db.password = password;
}
const dataDir = await mkdtemp(join(tmpdir(), "sequin-secrets-"));
onCleanup(() => rm(dataDir, { recursive: true, force: true }));

const sequin = spawnSequin(["start"], {
  SEQUIN_DATABASE_URL: store.url,
  SEQUIN_DATA_DIR: dataDir,
  SEQUIN_PORT: "0",
  SEQUIN_API_TOKEN: apiToken,
  SEQUIN_VAULT_KEY: vaultKey,
  SEQUIN_LOG_LEVEL: "trace",
  SEQUIN_SMTP_URL: `smtp://alerts:${encodeURIComponent(smtpPassword)}@${inbox.host}:${inbox.port}`,
  SEQUIN_ALERT_EMAIL_FROM: "sequin@example.com",
  SEQUIN_ALERT_EMAIL_TO: "oncall@example.com",
  SEQUIN_ALERT_WEBHOOK_URL: webhook.url,
  SEQUIN_ALERT_WEBHOOK_SECRET: webhookSecret,
  SEQUIN_ALERT_SETTLE_SECONDS: "0",
});
const [, url] = await sequin.waitForOutput(/^listening on (http:\/\/\S+)$/m);
const api = apiClient(url!, apiToken);

/** Everything the service let out, by where it came from. */
const outputs = new Map<string, string>();
const output = (where: string, text: string) => {
  let key = where;
  for (let n = 2; outputs.has(key); n++) key = `${where} #${n}`;
  outputs.set(key, text);
};
const keep = (where: string, response: ApiResponse) => {
  output(where, typeof response.body === "string" ? response.body : JSON.stringify(response.body));
  return response;
};

async function ok(method: string, path: string, body?: unknown) {
  const response = keep(`${method} ${path}`, await api(method, path, body === undefined ? {} : { body }));
  assert.ok(response.status < 300, `${method} ${path}: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body;
}

async function refused(what: string, method: string, path: string, body: unknown) {
  const response = keep(`${method} ${path} (${what})`, await api(method, path, { body }));
  assert.ok(response.status >= 400, `${what}: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body;
}

const connectionOf = (db: TargetDatabase, password = db.password) => ({
  host: db.host,
  port: db.port,
  database: db.database,
  username: db.user,
  password,
  ssl: "disable",
});
const tunnel = {
  host: bastion.host,
  port: bastion.port,
  username: bastion.username,
  private_key: key.privateKey,
};

async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

async function liveConsumer(name: string, target: { id: string }, db: TargetDatabase, provider: string) {
  const consumer = await ok("POST", "/v1/consumers/postgres", {
    name,
    target_id: target.id,
    filter: { provider },
    table: { schema: db.schema, name },
  });
  await db.admin.query(consumer.create_table_sql);
  await db.admin.query(`grant all on all tables in schema ${db.schema} to ${db.user}`);
  await ok("POST", `/v1/consumers/postgres/${consumer.id}/verify`);
  await ok("POST", `/v1/consumers/postgres/${consumer.id}/start`);
  await waitState(consumer.id, "live");
  return consumer.id as string;
}

async function waitState(id: string, state: string) {
  await waitFor(
    `consumer ${id} ${state}`,
    async () => (await api("GET", `/v1/consumers/postgres/${id}`)).body.state === state,
    30_000,
  );
}

test("the scan finds a secret in any of its forms, and a key's slice across escaped line breaks", () => {
  const password = passwords.down;
  const body = keySecretBody(key.privateKey);
  assert.ok(body.length > 150, "the key's private section is what the slices come from");
  const keyText = key.privateKey.slice(key.privateKey.indexOf(body.slice(60, 70)) - 30);
  const leaks = new Map([
    ["json", JSON.stringify({ msg: `connect failed: ${password}` })],
    ["url", `postgres://u:${encodeURIComponent(password)}@h/db`],
    [
      "base64",
      Buffer.concat([Buffer.from("xy"), Buffer.from(password), Buffer.from("z")]).toString("base64"),
    ],
    [
      "html",
      `<input value="${password.replaceAll("&", "&amp;").replaceAll('"', "&quot;").replaceAll("<", "&lt;")}">`,
    ],
    ["its plain part alone", password.split(" ")[0]!],
    ["key", JSON.stringify({ key: keyText.slice(0, 120) })],
    ["nothing", "password: $" + "{TARGET_PASSWORD}"],
  ]);
  const found = findSecrets({ values: { password }, keys: { key: key.privateKey } }, leaks);
  for (const where of ["json", "url", "base64", "html", "its plain part alone", "key"])
    assert.ok(
      found.some((f) => f.includes(` in ${where}`)),
      `found in ${where}: ${found.join("\n")}`,
    );
  assert.ok(!found.some((f) => f.includes(" in nothing")));
});

test("a run with every kind of secret, failing connections, outages and alerts", async () => {
  // refused: a wrong password, an unreachable host, a wrong or missing passphrase, an invalid request
  await refused("wrong password", "POST", "/v1/targets/postgres", {
    name: "wrong-password",
    connection: connectionOf(down, passwords.wrong),
  });
  await refused("unreachable", "POST", "/v1/targets/postgres", {
    name: "unreachable",
    connection: { ...connectionOf(down, passwords.unreachable), port: await closedPort() },
  });
  await refused("wrong passphrase", "POST", "/v1/targets/postgres", {
    name: "wrong-passphrase",
    connection: connectionOf(tunnelled),
    ssh_tunnel: { ...tunnel, passphrase: passwords.wrong },
  });
  await refused("no passphrase", "POST", "/v1/targets/postgres", {
    name: "no-passphrase",
    connection: connectionOf(tunnelled),
    ssh_tunnel: tunnel,
  });
  await refused("invalid", "POST", "/v1/targets/postgres", {
    name: "invalid",
    connection: { ...connectionOf(down), port: "not a port", sslmode: passwords.wrong },
    ssh_tunnel: { ...tunnel, passphrase, port: -1 },
  });

  const direct = await ok("POST", "/v1/targets/postgres", { name: "direct", connection: connectionOf(down) });
  const behind = await ok("POST", "/v1/targets/postgres", {
    name: "behind-bastion",
    connection: connectionOf(tunnelled),
    ssh_tunnel: { ...tunnel, passphrase },
  });
  await refused("patched to a wrong password", "PATCH", `/v1/targets/postgres/${direct.id}`, {
    connection: { password: passwords.patched },
  });
  const madeKey = await ok("POST", "/v1/targets/postgres/ssh-keys");

  const sync = await ok("POST", "/v1/syncs", { name: "crm", provider: "hubspot" });
  await ok("POST", `/v1/syncs/${sync.id}/records`, {
    records: [1, 2, 3].map((n) => ({
      collection_id: "contact",
      upstream_id: String(n),
      payload: { email: `${n}@example.com` },
      upstream_updated_at: "2024-05-01T12:00:00Z",
    })),
  });
  const directConsumer = await liveConsumer("direct-records", direct, down, "hubspot");
  const behindConsumer = await liveConsumer("behind-records", behind, tunnelled, "hubspot");
  await ok("POST", "/v1/consumers/postgres", {
    name: "not-started",
    target_id: behind.id,
    filter: { sync_id: sync.id },
    table: { schema: tunnelled.schema, name: "later" },
  });

  // the direct target goes down: probes fail, alerts go out by email (with its login) and webhook
  await cluster.stop();
  await waitState(directConsumer, "waiting_for_target");
  keep("POST test (target down)", await api("POST", `/v1/targets/postgres/${direct.id}/test`));
  await waitFor(
    "the unhealthy alerts",
    () => inbox.messages.length >= 1 && webhook.received.length >= 1,
    30_000,
  );
  assert.ok(inbox.logins.accepted >= 1, "the alert email was sent after logging in");
  await cluster.start();
  await waitState(directConsumer, "live");
  // the bastion goes down and comes back
  await bastion.kill();
  await waitState(behindConsumer, "waiting_for_target");
  await bastion.start();
  await waitState(behindConsumer, "live");

  for (const target of [direct, behind]) await ok("POST", `/v1/targets/postgres/${target.id}/test`);

  // every GET route of the API, with every id there is
  const ids: Record<string, string[]> = {
    "/v1/syncs/{id}": [sync.id],
    "/v1/targets/postgres/{id}": [direct.id, behind.id],
    "/v1/consumers/postgres/{id}": (await ok("GET", "/v1/consumers/postgres")).data.map(
      (c: { id: string }) => c.id,
    ),
    "/v1/targets/postgres/ssh-keys/{id}": [madeKey.id],
  };
  // (a route that needs a query answers its refusal, which is scanned too)
  const read = async (path: string) => {
    const response = keep(`GET ${path}`, await api("GET", path));
    assert.ok(response.status < 500, `GET ${path}: ${response.status} ${JSON.stringify(response.body)}`);
  };
  const document = await ok("GET", "/openapi.json");
  for (const [path, operations] of Object.entries<Record<string, unknown>>(document.paths)) {
    if (!("get" in operations)) continue;
    const prefix = Object.keys(ids).find((p) => path.startsWith(p));
    if (!path.includes("{")) await read(path);
    else if (prefix) for (const id of ids[prefix]!) await read(path.replace("{id}", id));
    else assert.fail(`GET ${path}: give this test the ids to read it with`);
  }
  keep("GET /metrics", await api("GET", "/metrics", { token: null }));

  // every console page a signed-in user can reach, and the console's own refusals
  const cookie = await signInToConsole(url!, apiToken);
  const linkedOnce = [`/console/targets?added=${behind.id}`, `/console/consumers/new?target_id=${behind.id}`];
  for (const [where, text] of await crawlConsole(url!, cookie, linkedOnce)) output(where, text);
  const consolePost = async (path: string, form: Record<string, string>) => {
    const response = await fetch(`${url}${path}`, {
      method: "POST",
      headers: {
        cookie,
        origin: url!,
        "hx-request": "true",
        "content-type": "application/x-www-form-urlencoded",
      },
      body: new URLSearchParams(form),
    });
    output(`console POST ${path}`, await response.text());
  };
  const form = {
    name: "typed-in-console",
    "connection.host": down.host,
    "connection.port": String(down.port),
    "connection.database": down.database,
    "connection.username": down.user,
    "connection.password": passwords.typedInConsole,
    "connection.ssl": "disable",
  };
  await consolePost("/console/targets", form);
  await consolePost("/console/targets", {
    ...form,
    "ssh_tunnel.host": bastion.host,
    "ssh_tunnel.port": String(bastion.port),
    "ssh_tunnel.username": bastion.username,
    "ssh_tunnel.private_key": key.privateKey,
  });
  // the edit form, refused with a wrong new password (and a new key for the tunnel)
  await consolePost(`/console/targets/${direct.id}`, { ...form, name: "direct" });
  await consolePost(`/console/targets/${behind.id}`, {
    ...form,
    name: "behind",
    "ssh_tunnel.host": bastion.host,
    "ssh_tunnel.port": String(bastion.port),
    "ssh_tunnel.username": bastion.username,
    "ssh_tunnel.private_key": key.privateKey,
  });
  for (const target of [direct, behind]) await consolePost(`/console/targets/${target.id}/test`, {});

  // the CLI's answers, and its refusals: a config file with a wrong password, settings it cannot use
  const cli = { SEQUIN_URL: url!, SEQUIN_API_TOKEN: apiToken };
  const file = join(dataDir, "wrong.yaml");
  await writeFile(
    file,
    `targets:\n  - name: from-file\n    postgres:\n      host: ${down.host}\n      port: ${down.port}\n` +
      `      database: ${down.database}\n      username: ${down.user}\n      password: $` +
      `{WRONG_PASSWORD}\n      ssl: disable\n`,
  );
  const runs: [string[], Record<string, string>][] = [
    [["config", "export"], cli],
    [["status"], cli],
    [["config", "plan", "-f", file], { ...cli, WRONG_PASSWORD: passwords.wrong }],
    [["config", "apply", "-f", file], { ...cli, WRONG_PASSWORD: passwords.wrong }],
    [
      ["start"],
      {
        SEQUIN_DATABASE_URL: `mysql://sequin:${encodeURIComponent(passwords.unreachable)}@db/app`,
        SEQUIN_SMTP_URL: `smtp://alerts:${smtpPassword}@mail:587`,
      },
    ],
  ];
  for (const [args, env] of runs) {
    const run = await runSequin(args, env);
    output(`sequin ${args.join(" ")} (exit ${run.code})`, `${run.stdout}\n${run.stderr}`);
  }
  assert.match(outputs.get("sequin config export (exit 0)")!, /password: \$\{/);
  assert.match(
    outputs.get("sequin config apply -f " + file + " (exit 1)")!,
    /password authentication failed/,
  );
  assert.match(outputs.get("sequin start (exit 2)")!, /SEQUIN_DATABASE_URL .* SEQUIN_SMTP_URL /s);

  // the whole log, to the last line after SIGTERM
  assert.deepEqual(await sequin.stop("SIGTERM"), { code: 0, signal: null });
  const lines = sequin.stderr().trim().split("\n");
  const levels = new Set(lines.map((line) => JSON.parse(line).level));
  assert.ok(levels.has(20), "debug lines were written: the log is the full trace-level log");
  output("the log (stderr)", sequin.stderr());
  output("stdout", sequin.stdout());
});

test("none of it holds a secret, in any encoding", () => {
  const storePassword = decodeURIComponent(new URL(store.url).password);
  assert.ok(outputs.size > 40, `scanned ${outputs.size} outputs`);
  const found = findSecrets(
    {
      values: {
        ...Object.fromEntries(Object.entries(passwords).map(([k, v]) => [`password ${k}`, v])),
        "SSH key passphrase": passphrase,
        "SMTP password": smtpPassword,
        "SMTP login": `alerts:${smtpPassword}`,
        "webhook secret": webhookSecret,
        "API token": apiToken,
        "vault key": vaultKey,
        "vault key (hex)": Buffer.from(vaultKey, "base64").toString("hex"),
        ...(storePassword.length >= 8 ? { "store password": storePassword } : {}),
      },
      keys: { "SSH private key": key.privateKey },
    },
    outputs,
  );
  assert.deepEqual(found, []);
});
