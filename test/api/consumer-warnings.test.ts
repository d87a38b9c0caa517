/**
 * What a new user trips over, answered by the API: a provider filter that matches no sync (a typo such as
 * "hubspt" or "HubSpot" is accepted, with a warning, as it may name a provider whose syncs come later),
 * two consumers writing one table, and a refused target delete that names the target and its consumers.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { createSeedTarget } from "../helpers/consumer-world.js";
import { startTestService } from "../helpers/service.js";

const api = await startTestService();
const db = await createSeedTarget();

async function ok(method: string, path: string, body?: unknown, status = 200) {
  const response = await api.request(method, path, body === undefined ? {} : { body });
  assert.equal(response.status, status, `${method} ${path}: ${JSON.stringify(response.body)}`);
  return response.body;
}

const target = await ok(
  "POST",
  "/v1/targets/postgres",
  {
    name: "app",
    connection: {
      host: db.host,
      port: db.port,
      database: db.database,
      username: db.user,
      password: db.password,
      ssl: "disable",
    },
  },
  201,
);
await ok("POST", "/v1/syncs", { name: "acme-zendesk", provider: "zendesk" }, 201);

let tables = 0;
function consumer(name: string, filter: object, table = `t${++tables}`) {
  return ok(
    "POST",
    "/v1/consumers/postgres",
    { name, target_id: target.id, filter, table: { schema: db.schema, name: table } },
    201,
  );
}

test("a provider that no sync has is accepted with a warning naming the known providers", async () => {
  for (const provider of ["hubspt", "HubSpot"]) {
    const created = await consumer(`typo-${provider}`, { provider });
    assert.equal(created.warnings.length, 1, JSON.stringify(created.warnings));
    const [warning] = created.warnings;
    assert.equal(warning.kind, "no_matching_sync");
    assert.match(warning.message, new RegExp(`No sync matches provider "${provider}" yet`));
    assert.match(warning.message, /known providers: github, hubspot, salesforce, stripe, zendesk\./);
    assert.match(warning.message, /check the spelling/);
    assert.ok(created.health.notes.includes(warning.message), "the warning is a health note too");
    assert.equal(created.health.status, "healthy", "a warning does not make it unhealthy");
  }

  // a provider the service knows, with no sync yet: the warning, without the spelling hint
  const github = await consumer("github-early", { provider: "github" });
  assert.equal(github.warnings[0].kind, "no_matching_sync");
  assert.doesNotMatch(github.warnings[0].message, /spelling/);

  // a provider with a sync: no warning; once a sync of the typo's provider exists, its warning goes
  assert.deepEqual((await consumer("zendesk", { provider: "zendesk" })).warnings, []);
  await ok("POST", "/v1/syncs", { name: "odd", provider: "hubspt" }, 201);
  const list = (await ok("GET", "/v1/consumers/postgres")).data;
  const byName = new Map(list.map((c: { name: string }) => [c.name, c]));
  assert.deepEqual((byName.get("typo-hubspt") as { warnings: unknown[] }).warnings, []);
  assert.equal((byName.get("typo-HubSpot") as { warnings: unknown[] }).warnings.length, 1);
});

test("two consumers writing one table: a warning on both, in their answers and in verify", async () => {
  const first = await consumer("crm-a", { provider: "zendesk" }, "shared");
  assert.deepEqual(first.warnings, []);
  const second = await consumer("crm-b", { provider: "zendesk" }, "shared");
  assert.deepEqual(
    second.warnings.map((w: { kind: string }) => w.kind),
    ["shared_table"],
  );
  assert.match(second.warnings[0].message, /Consumer "crm-a" writes the same table "sequin"\."shared"/);
  const again = await ok("GET", `/v1/consumers/postgres/${first.id}`);
  assert.match(again.warnings[0].message, /Consumer "crm-b" writes the same table/);
  assert.ok(again.health.notes.some((n: string) => n.includes('"crm-b" writes the same table')));

  await db.admin.query(first.create_table_sql);
  await db.admin.query(`grant all on all tables in schema ${db.schema} to ${db.user}`);
  const verified = await ok("POST", `/v1/consumers/postgres/${first.id}/verify`);
  assert.equal(verified.ok, true, JSON.stringify(verified));
  const shared = verified.warnings.find((w: { kind: string }) => w.kind === "shared_table");
  assert.match(shared?.message ?? "", /"crm-b" writes the same table/);

  // another table of the same name in another schema is another table
  const elsewhere = await ok(
    "POST",
    "/v1/consumers/postgres",
    {
      name: "crm-c",
      target_id: target.id,
      filter: { provider: "zendesk" },
      table: { schema: "other", name: "shared" },
    },
    201,
  );
  assert.deepEqual(elsewhere.warnings, []);
});

test("a refused target delete names the target and its consumers", async () => {
  const refused = await api.request("DELETE", `/v1/targets/postgres/${target.id}`);
  assert.equal(refused.status, 409);
  assert.equal(refused.body.code, "conflict");
  const names = (await ok("GET", "/v1/consumers/postgres")).data.map((c: { name: string }) => c.name);
  assert.ok(names.length > 1);
  assert.match(refused.body.summary, new RegExp(`^target "app" is used by ${names.length} consumers: `));
  for (const name of names) assert.ok(refused.body.summary.includes(`"${name}"`), name);
  assert.doesNotMatch(refused.body.summary, new RegExp(target.id));
  assert.doesNotMatch(refused.body.summary, /\(s\)/);
  assert.deepEqual(refused.body.consumers.map((c: { name: string }) => c.name).sort(), [...names].sort());
});
