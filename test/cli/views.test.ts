/**
 * `sequin views generate`: the statement on stdout (it runs as printed), what was inferred on stderr,
 * `--apply` creating the view; a view the target refuses exits 1; unknown names and bad options exit 2.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import pg from "pg";
import { onCleanup } from "../helpers/cleanup.js";
import { createSeedTarget } from "../helpers/consumer-world.js";
import { startTestService } from "../helpers/service.js";
import { waitFor } from "../helpers/wait.js";
import { hubspotContacts } from "../views/provider-payloads.js";
import { runSequin } from "./sequin-process.js";

const api = await startTestService();
const target = await createSeedTarget();
const env = { SEQUIN_URL: api.url, SEQUIN_API_TOKEN: api.token };
const asUser = new pg.Client({
  host: target.host,
  port: target.port,
  database: target.database,
  user: target.user,
  password: target.password,
});
await asUser.connect();
onCleanup(() => asUser.end());

async function ok(method: string, path: string, body?: unknown) {
  const response = await api.request(method, path, body === undefined ? {} : { body });
  assert.ok(response.status < 300, `${method} ${path}: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body;
}

const records = hubspotContacts(20);
const sync = await ok("POST", "/v1/syncs", { name: "crm", provider: "hubspot" });
await ok("POST", `/v1/syncs/${sync.id}/records`, { records });
const registered = await ok("POST", "/v1/targets/postgres", {
  name: "warehouse",
  connection: {
    host: target.host,
    port: target.port,
    database: target.database,
    username: target.user,
    password: target.password,
    ssl: "disable",
  },
});
const consumer = await ok("POST", "/v1/consumers/postgres", {
  name: "crm-to-warehouse",
  target_id: registered.id,
  filter: { provider: "hubspot" },
  table: { schema: target.schema, name: "crm" },
});
await asUser.query(consumer.create_table_sql);
await ok("POST", `/v1/consumers/postgres/${consumer.id}/start`);
await waitFor("live and caught up", async () => {
  const c = await ok("GET", `/v1/consumers/postgres/${consumer.id}`);
  return c.state === "live" && c.stats.upserted === records.length;
});

test("generate prints the statement, which runs as printed; --apply creates the view", async () => {
  const printed = await runSequin(
    ["views", "generate", "--consumer", "crm-to-warehouse", "--collection", "contacts"],
    env,
  );
  assert.equal(printed.code, 0, printed.stderr);
  assert.match(printed.stdout, /^create or replace view "sequin"."crm_contacts" as\n/);
  assert.match(
    printed.stderr,
    /generated view "sequin"."crm_contacts": \d+ payload columns inferred from 20 rows/,
  );
  assert.match(
    printed.stderr,
    /properties_numemployees \(properties.numemployees\) is text: 1 sampled value did not fit/,
  );
  assert.match(printed.stderr, /run again with --apply/);
  await asUser.query(printed.stdout);
  const viaPrinted = await asUser.query("select count(*)::int as n from sequin.crm_contacts");
  assert.equal(viaPrinted.rows[0].n, 20);

  const applied = await runSequin(
    [
      "views",
      "generate",
      "--consumer",
      "crm-to-warehouse",
      "--collection",
      "contacts",
      "--name",
      "people",
      "--apply",
    ],
    env,
  );
  assert.equal(applied.code, 0, applied.stderr);
  assert.match(applied.stderr, /created or replaced view "sequin"."people"/);
  const row = await asUser.query(
    "select properties_hs_email_optout as optout, pg_typeof(properties_lastmodifieddate)::text as t from sequin.people where upstream_id = '51'",
  );
  assert.deepEqual(row.rows[0], { optout: false, t: "timestamp with time zone" });
});

test("a view the target refuses exits 1; unknown names and bad options exit 2", async () => {
  await target.admin.query(`revoke create on schema ${target.schema} from ${target.user}`);
  try {
    const refused = await runSequin(
      [
        "views",
        "generate",
        "--consumer",
        "crm-to-warehouse",
        "--collection",
        "contacts",
        "--name",
        "x",
        "--apply",
      ],
      env,
    );
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, /may not create view "sequin"."x".*grant create on schema "sequin"/);
    assert.equal(refused.stdout, "");
  } finally {
    await target.admin.query(`grant create on schema ${target.schema} to ${target.user}`);
  }

  const nobody = await runSequin(
    ["views", "generate", "--consumer", "nobody", "--collection", "contacts"],
    env,
  );
  assert.equal(nobody.code, 2);
  assert.match(nobody.stderr, /no consumer is named "nobody".*consumers: crm-to-warehouse/);

  const collection = await runSequin(
    ["views", "generate", "--consumer", "crm-to-warehouse", "--collection", "deals"],
    env,
  );
  assert.equal(collection.code, 2);
  assert.match(collection.stderr, /holds no rows of collection "deals".*collections there: contacts/);

  for (const bad of [["--sample", "0"], ["--sample", "many"], ["--name", "x".repeat(64)], []]) {
    const args = [
      "views",
      "generate",
      "--consumer",
      "crm-to-warehouse",
      ...(bad.length ? ["--collection", "contacts", ...bad] : []),
    ];
    const answer = await runSequin(args, env);
    assert.equal(answer.code, 2, `${bad.join(" ")}: ${answer.stderr}`);
  }
});
