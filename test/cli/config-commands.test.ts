// biome-ignore-all lint/suspicious/noTemplateCurlyInString: config files hold ${VAR} references literally
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import pg from "pg";
import { createTableSql } from "../../src/targets/postgres/index.js";
import { onCleanup } from "../helpers/cleanup.js";
import { createSeedTarget, type TargetDatabase } from "../helpers/consumer-world.js";
import { startTestService, type TestService } from "../helpers/service.js";
import { waitFor } from "../helpers/wait.js";
import { configFolder } from "./config-folder.js";
import { runSequin } from "./sequin-process.js";

const api = await startTestService();
const target = await createSeedTarget();
const configs = await configFolder("sequin-config-");
const dir = configs.dir;
const envOf = (service: TestService, more: Record<string, string> = {}) => ({
  SEQUIN_URL: service.url,
  SEQUIN_API_TOKEN: service.token,
  APP_PASSWORD: target.password,
  ...more,
});
const env = envOf(api);

async function asSeedUser(db: TargetDatabase) {
  const client = new pg.Client({
    host: db.host,
    port: db.port,
    database: db.database,
    user: db.user,
    password: db.password,
  });
  await client.connect();
  onCleanup(() => client.end());
  return client;
}
const seed = await asSeedUser(target);
for (const table of ["records", "records_v2"])
  await seed.query(createTableSql({ schema: target.schema, name: table }));

async function ok(service: TestService, method: string, path: string, body?: unknown) {
  const response = await service.request(method, path, body === undefined ? {} : { body });
  assert.ok(response.status < 300, `${method} ${path}: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body;
}

async function consumer(service: TestService, name: string) {
  const { data } = await ok(service, "GET", "/v1/consumers/postgres");
  return data.find((c: { name: string }) => c.name === name);
}

interface FileOptions {
  table?: string;
  active?: boolean;
  extra?: string;
}

function configYaml({ table = "records", active = true, extra = "" }: FileOptions = {}): string {
  return `syncs:
  - name: acme-hubspot
    provider: hubspot
    collections: [contact, deal]
targets:
  - name: app
    postgres:
      host: ${target.host}
      port: ${target.port}
      database: ${target.database}
      username: ${target.user}
      password: \${APP_PASSWORD}
      ssl: disable
consumers:
  - name: hubspot-to-app
    target: app
    filter: { sync: acme-hubspot }
    table: { schema: ${target.schema}, name: ${table} }
    active: ${active}
${extra}`;
}

const writeConfig = configs.write;

const file = join(dir, "sequin.yaml");

function sequin(args: string[], withEnv: Record<string, string> = env) {
  return runSequin(args, withEnv);
}

test("plan shows the creations and exits 2; apply makes them; then plan is empty (exit 0) and apply does nothing", async () => {
  await writeConfig("sequin.yaml", configYaml());
  const plan = await sequin(["config", "plan", "-f", file]);
  assert.equal(plan.code, 2, plan.stderr);
  const lines = plan.stdout.split("\n");
  const order = [
    '+ create sync "acme-hubspot"',
    '+ create target "app"',
    '+ create consumer "hubspot-to-app"',
  ];
  assert.deepEqual(
    lines.filter((l) => l.startsWith("+")),
    order,
  );
  assert.ok(lines.includes('    collections: ["contact","deal"]'), plan.stdout);
  assert.ok(lines.includes("    postgres.password: ${APP_PASSWORD}"), plan.stdout);
  assert.ok(lines.includes('    table.name: "records"'), plan.stdout);
  assert.match(plan.stdout, /^Plan: 3 to create, 0 to update, 0 to delete\.$/m);
  assert.ok(!plan.stdout.includes(target.password), "the secret is never printed");
  assert.equal((await ok(api, "GET", "/v1/syncs")).data.length, 0, "plan changes nothing");

  const apply = await sequin(["config", "apply", "-f", file]);
  assert.equal(apply.code, 0, apply.stderr);
  assert.match(apply.stdout, /^Apply complete: 3 created, 0 updated, 0 deleted\.$/m);
  const created = await consumer(api, "hubspot-to-app");
  assert.ok(["backfilling", "live"].includes(created.state), created.state);
  assert.deepEqual(created.table, { schema: target.schema, name: "records" });

  const again = await sequin(["config", "plan", "-f", file]);
  assert.equal(again.code, 0, again.stdout + again.stderr);
  assert.match(again.stdout, /No changes/);
  assert.match(again.stdout, /^Plan: 0 to create, 0 to update, 0 to delete\.$/m);
  const json = await sequin(["config", "plan", "-f", file, "--json"]);
  assert.equal(json.code, 0);
  assert.deepEqual(JSON.parse(json.stdout), {
    actions: [],
    unmanaged: [],
    summary: { create: 0, update: 0, delete: 0 },
  });

  const reapply = await sequin(["config", "apply", "-f", file]);
  assert.equal(reapply.code, 0, reapply.stderr);
  assert.match(reapply.stdout, /^Apply complete: 0 created, 0 updated, 0 deleted\.$/m);
  assert.equal((await consumer(api, "hubspot-to-app")).id, created.id);
});

test("a consumer's table change is shown field by field in plan, and apply moves the rows there", async () => {
  const sync = (await ok(api, "GET", "/v1/syncs")).data[0];
  const records = Array.from({ length: 20 }, (_, i) => ({
    collection_id: "contact",
    upstream_id: String(i),
    payload: { i },
    upstream_updated_at: "2024-01-01T00:00:00Z",
  }));
  await ok(api, "POST", `/v1/syncs/${sync.id}/records`, { records });
  const count = async (table: string) =>
    Number((await target.admin.query(`select count(*) from ${target.schema}.${table}`)).rows[0].count);
  await waitFor("the backfill into records", async () => (await count("records")) === 20);

  await writeConfig("sequin.yaml", configYaml({ table: "records_v2" }));
  const plan = await sequin(["config", "plan", "-f", file]);
  assert.equal(plan.code, 2, plan.stderr);
  assert.ok(
    plan.stdout
      .split("\n")
      .includes('~ update consumer "hubspot-to-app": table.name: "records" → "records_v2"'),
    plan.stdout,
  );
  assert.match(plan.stdout, /note: the consumer forwards its stream again from the beginning/);
  assert.match(plan.stdout, /^Plan: 0 to create, 1 to update, 0 to delete\.$/m);
  const json = JSON.parse((await sequin(["config", "plan", "-f", file, "--json"])).stdout);
  assert.deepEqual(
    json.actions.map((a: { action: string; kind: string; name: string; changes: unknown }) => [
      a.action,
      a.kind,
      a.name,
      a.changes,
    ]),
    [["update", "consumer", "hubspot-to-app", [{ field: "table.name", from: "records", to: "records_v2" }]]],
  );

  const apply = await sequin(["config", "apply", "-f", file]);
  assert.equal(apply.code, 0, apply.stderr);
  await waitFor("the rows in records_v2", async () => (await count("records_v2")) === 20);
  assert.deepEqual((await consumer(api, "hubspot-to-app")).table.name, "records_v2");
  assert.equal((await sequin(["config", "plan", "-f", file])).code, 0);
});

test("active: false pauses the consumer and active: true resumes it", async () => {
  await writeConfig("sequin.yaml", configYaml({ table: "records_v2", active: false }));
  const plan = await sequin(["config", "plan", "-f", file]);
  assert.equal(plan.code, 2);
  assert.ok(plan.stdout.includes('~ update consumer "hubspot-to-app": active: true → false'), plan.stdout);
  assert.equal((await sequin(["config", "apply", "-f", file])).code, 0);
  assert.equal((await consumer(api, "hubspot-to-app")).state, "paused");

  await writeConfig("sequin.yaml", configYaml({ table: "records_v2" }));
  const apply = await sequin(["config", "apply", "-f", file]);
  assert.equal(apply.code, 0, apply.stderr);
  assert.ok(apply.stdout.includes('~ update consumer "hubspot-to-app": active: false → true'));
  assert.ok(["backfilling", "live"].includes((await consumer(api, "hubspot-to-app")).state));
});

test("export → apply on a fresh service → export gives the same file; plan of the export is empty", async () => {
  const exported = await sequin(["config", "export"]);
  assert.equal(exported.code, 0, exported.stderr);
  assert.match(exported.stdout, /^ {6}password: \$\{APP_PASSWORD\}$/m);
  assert.match(exported.stdout, /^ {4}filter: \{ sync: acme-hubspot \}$/m);
  assert.match(exported.stdout, /^ {4}active: true$/m);
  assert.ok(!exported.stdout.includes(target.password), "no secret in the export");
  const exportFile = await writeConfig("exported.yaml", exported.stdout);
  const unchanged = await sequin(["config", "plan", "-f", exportFile]);
  assert.equal(unchanged.code, 0, unchanged.stdout + unchanged.stderr);

  const fresh = await startTestService();
  const apply = await sequin(["config", "apply", "-f", exportFile], envOf(fresh));
  assert.equal(apply.code, 0, apply.stderr);
  assert.match(apply.stdout, /Apply complete: 3 created, 0 updated, 0 deleted\./);
  const again = await sequin(["config", "export", "-o", join(dir, "again.yaml")], envOf(fresh));
  assert.equal(again.code, 0, again.stderr);
  assert.equal(await readFile(join(dir, "again.yaml"), "utf8"), exported.stdout);
});

test("resources not in the file are reported and left alone; --prune deletes them, consumers first", async () => {
  const sync = await ok(api, "POST", "/v1/syncs", { name: "stray-sync", provider: "zendesk" });
  const stray = await ok(api, "POST", "/v1/targets/postgres", {
    name: "stray-target",
    connection: {
      host: target.host,
      port: target.port,
      database: target.database,
      username: target.user,
      password: target.password,
      ssl: "disable",
    },
  });
  await ok(api, "POST", "/v1/consumers/postgres", {
    name: "stray",
    target_id: stray.id,
    filter: { sync_id: sync.id },
    table: { schema: target.schema, name: "stray" },
  });

  const plan = await sequin(["config", "plan", "-f", file]);
  assert.equal(plan.code, 0, "unmanaged resources are not changes");
  for (const line of [
    'unmanaged consumer "stray": not in the file, left alone (--prune deletes it)',
    'unmanaged target "stray-target"',
    'unmanaged sync "stray-sync"',
  ]) {
    assert.ok(plan.stdout.includes(line), plan.stdout);
  }

  const prune = await sequin(["config", "plan", "-f", file, "--prune"]);
  assert.equal(prune.code, 2);
  assert.deepEqual(
    prune.stdout.split("\n").filter((l) => l.startsWith("-")),
    ['- delete consumer "stray"', '- delete target "stray-target"', '- delete sync "stray-sync"'],
  );
  assert.match(prune.stdout, /^Plan: 0 to create, 0 to update, 3 to delete\.$/m);
  const apply = await sequin(["config", "apply", "-f", file, "--prune"]);
  assert.equal(apply.code, 0, apply.stderr);
  assert.deepEqual(
    (await ok(api, "GET", "/v1/targets/postgres")).data.map((t: { name: string }) => t.name),
    ["app"],
  );
  assert.deepEqual(
    (await ok(api, "GET", "/v1/syncs")).data.map((s: { name: string }) => s.name),
    ["acme-hubspot"],
  );
  assert.equal(await consumer(api, "stray"), undefined);
});

test("a consumer whose table is missing: apply stops with the problem and its fix (exit 1); plan shows the start left to do", async () => {
  const extra = `  - name: needs-table
    target: app
    filter: { provider: hubspot }
    table: { schema: ${target.schema}, name: later }
    active: true
`;
  await writeConfig("sequin.yaml", configYaml({ table: "records_v2", extra }));
  const apply = await sequin(["config", "apply", "-f", file]);
  assert.equal(apply.code, 1);
  assert.match(
    apply.stderr,
    /^sequin: apply stopped: create consumer "needs-table": table "sequin"\."later" does not match the contract$/m,
  );
  assert.match(
    apply.stderr,
    /^ {2}- table "sequin"\."later": table does not exist — run: create table "sequin"\."later"/m,
  );
  assert.match(apply.stderr, /0 changes were applied before it/);
  assert.equal((await consumer(api, "needs-table")).state, "inactive");

  const plan = await sequin(["config", "plan", "-f", file]);
  assert.equal(plan.code, 2);
  assert.ok(plan.stdout.includes('~ update consumer "needs-table": active: false → true'), plan.stdout);
  await seed.query(createTableSql({ schema: target.schema, name: "later" }));
  const retry = await sequin(["config", "apply", "-f", file]);
  assert.equal(retry.code, 0, retry.stderr);
  assert.ok(["backfilling", "live"].includes((await consumer(api, "needs-table")).state));
});

test("secrets: --update-secrets sends the password (shown as its reference); a wrong one is refused", async () => {
  const plan = await sequin(["config", "plan", "-f", file, "--update-secrets"]);
  assert.equal(plan.code, 2);
  assert.ok(
    plan.stdout.includes('~ update target "app": postgres.password: (secret) → ${APP_PASSWORD}'),
    plan.stdout,
  );

  const wrong = await sequin(["config", "apply", "-f", file, "--update-secrets"], {
    ...env,
    APP_PASSWORD: "not-the-password",
  });
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /apply stopped: update target "app": cannot connect to/);
  assert.ok(!(wrong.stdout + wrong.stderr).includes("not-the-password"), "the secret is never printed");

  const right = await sequin(["config", "apply", "-f", file, "--update-secrets"]);
  assert.equal(right.code, 0, right.stderr);
  assert.equal((await sequin(["config", "plan", "-f", file])).code, 0);
});

test("an override file points the consumers at a developer's own database; only its variables are needed", async () => {
  const mine = await createSeedTarget();
  const mySeed = await asSeedUser(mine);
  await mySeed.query(createTableSql({ schema: mine.schema, name: "records" }));
  const dev = await writeConfig(
    "sequin.dev.yaml",
    `targets:
  - name: app
    postgres:
      database: \${DEV_DATABASE}
      username: ${mine.user}
      password: \${DEV_PASSWORD}
consumers:
  - name: hubspot-to-app
    table: { schema: ${mine.schema}, name: records }
`,
  );
  const local = await startTestService();
  const devEnv = {
    SEQUIN_URL: local.url,
    SEQUIN_API_TOKEN: local.token,
    DEV_DATABASE: mine.database,
    DEV_PASSWORD: mine.password,
  };
  await writeConfig("sequin.yaml", configYaml({ table: "records_v2" }));
  const apply = await sequin(["config", "apply", "-f", file, "-f", dev], devEnv);
  assert.equal(apply.code, 0, apply.stderr);
  const sync = (await ok(local, "GET", "/v1/syncs")).data[0];
  await ok(local, "POST", `/v1/syncs/${sync.id}/records`, {
    records: [
      {
        collection_id: "deal",
        upstream_id: "d1",
        payload: { x: 1 },
        upstream_updated_at: "2024-01-01T00:00:00Z",
      },
    ],
  });
  await waitFor("the row in the developer's database", async () => {
    const { rows } = await mine.admin.query(`select upstream_id from ${mine.schema}.records`);
    return rows.length === 1 && rows[0].upstream_id === "d1";
  });
  assert.equal((await sequin(["config", "plan", "-f", file, "-f", dev], devEnv)).code, 0);
});

test("an invalid file: plan exits 1, apply 2, naming the file, line and path; nothing is sent", async () => {
  const bad = await writeConfig(
    "bad.yaml",
    configYaml().replace("target: app", "target: nope").replace("ssl: disable", "ssl: maybe"),
  );
  const plan = await sequin(["config", "plan", "-f", bad]);
  assert.equal(plan.code, 1);
  assert.equal(plan.stdout, "");
  assert.match(plan.stderr, /bad\.yaml:13:12: targets\[0\]\.postgres\.ssl: /);
  assert.match(plan.stderr, /bad\.yaml:16:13: consumers\[0\]\.target: no target named "nope"/);
  const apply = await sequin(["config", "apply", "-f", bad, "--json"]);
  assert.equal(apply.code, 2);
  assert.deepEqual(
    JSON.parse(apply.stdout).problems.map((p: { line: number }) => p.line),
    [13, 16],
  );

  const noToken = await sequin(["config", "plan", "-f", file], { SEQUIN_URL: api.url, APP_PASSWORD: "x" });
  assert.equal(noToken.code, 1);
  assert.match(noToken.stderr, /SEQUIN_API_TOKEN is not set/);
  const missing = await sequin(["config", "plan", "-f", join(dir, "nope.yaml")]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /nope\.yaml: cannot read the file: no such file/);
});
