/**
 * Typed views through the API on payloads shaped like Stripe's, HubSpot's and Salesforce's, written into
 * real target tables by running consumers: the statement runs as the target's user, the view returns the
 * right typed values, misfits are counted and typed text, and rows that arrive later with values that fit
 * nothing read as NULL instead of failing the view. Then validation and the target's refusals.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import pg from "pg";
import { onCleanup } from "../helpers/cleanup.js";
import { createSeedTarget } from "../helpers/consumer-world.js";
import { type ApiResponse, startTestService } from "../helpers/service.js";
import { TcpProxy } from "../helpers/tcp-proxy.js";
import { waitFor } from "../helpers/wait.js";
import {
  hubspotContacts,
  salesforceContacts,
  stripeCustomers,
  type TestRecord,
} from "../views/provider-payloads.js";

const api = await startTestService();
const target = await createSeedTarget();
const asUser = new pg.Client({
  host: target.host,
  port: target.port,
  database: target.database,
  user: target.user,
  password: target.password,
});
await asUser.connect();
onCleanup(() => asUser.end());

async function ok(method: string, path: string, body?: unknown, status = 200) {
  const response = await api.request(method, path, body === undefined ? {} : { body });
  assert.equal(response.status, status, `${method} ${path}: ${JSON.stringify(response.body)}`);
  return response.body;
}

const targetId = (
  await ok(
    "POST",
    "/v1/targets/postgres",
    {
      name: "app",
      connection: {
        host: target.host,
        port: target.port,
        database: target.database,
        username: target.user,
        password: target.password,
        ssl: "disable",
      },
    },
    201,
  )
).id;

/** A sync of `provider` holding `records`, and a running consumer that has written them all to `table`. */
async function consumerWith(provider: string, table: string, records: TestRecord[]): Promise<string> {
  const sync = await ok("POST", "/v1/syncs", { name: `${provider}-acme`, provider }, 201);
  await ok("POST", `/v1/syncs/${sync.id}/records`, { records });
  const consumer = await ok(
    "POST",
    "/v1/consumers/postgres",
    {
      name: `${provider}-to-app`,
      target_id: targetId,
      filter: { sync_id: sync.id },
      table: { schema: target.schema, name: table },
    },
    201,
  );
  await asUser.query(consumer.create_table_sql);
  await ok("POST", `/v1/consumers/postgres/${consumer.id}/start`);
  await waitFor(`consumer ${consumer.name} caught up`, async () => {
    const c = await ok("GET", `/v1/consumers/postgres/${consumer.id}`);
    return c.state === "live" && c.stats.upserted >= records.length;
  });
  return consumer.id;
}

type Column = { name: string; type: string; source_path: string; nullable: boolean; sample_errors: number };
function byName(columns: Column[]): Record<string, Column> {
  return Object.fromEntries(columns.map((c) => [c.name, c]));
}

function generate(consumerId: string, body: unknown, query = ""): Promise<ApiResponse> {
  return api.request("POST", `/v1/consumers/postgres/${consumerId}/views${query}`, { body });
}

const count = 60;
const stripe = await consumerWith("stripe", "stripe_records", stripeCustomers(count));
const hubspot = await consumerWith("hubspot", "hubspot_records", hubspotContacts(count));
const salesforce = await consumerWith("salesforce", "salesforce_records", salesforceContacts(count));

test("Stripe customers: epoch-second created, nested address and invoice_settings, metadata keys", async () => {
  const answer = await ok("POST", `/v1/consumers/postgres/${stripe}/views?apply=true`, {
    collection_id: "customer",
  });
  assert.equal(answer.applied, true);
  assert.equal(answer.sampled_rows, count);
  assert.deepEqual(answer.view, { schema: target.schema, name: "stripe_records_customer" });
  assert.match(
    answer.sql,
    /^create or replace view "sequin"."stripe_records_customer" as\nselect\n {2}record.sequin_id,/,
  );
  const columns = byName(answer.columns);
  const typeOf = (name: string) => columns[name]?.type;
  assert.equal(typeOf("created"), "timestamptz");
  assert.equal(typeOf("balance"), "bigint");
  assert.equal(typeOf("delinquent"), "boolean");
  assert.equal(typeOf("address_city"), "text");
  assert.equal(columns.address_city!.source_path, "address.city");
  assert.equal(columns.address_city!.nullable, true);
  assert.equal(typeOf("metadata_order_id"), "bigint");
  assert.equal(typeOf("invoice_settings_custom_fields"), "jsonb");
  assert.equal(typeOf("invoice_settings_rendering_options"), "jsonb");
  assert.equal(typeOf("preferred_locales"), "jsonb");
  assert.equal(typeOf("next_invoice_sequence"), "bigint");
  assert.equal(columns.email!.nullable, false);
  // zip codes: most are digits, "02134" and "SW1A 1AA" are not numbers: text, with the two kinds counted
  const withAddress = stripeCustomers(count).filter((r) => r.payload.address !== null);
  const misfits = withAddress.filter((r) =>
    ["02134", "SW1A 1AA"].includes((r.payload.address as { postal_code: string }).postal_code),
  ).length;
  assert.deepEqual(
    [typeOf("address_postal_code"), columns.address_postal_code!.sample_errors],
    ["text", misfits],
  );

  const rows = await asUser.query(
    `select upstream_id, created, balance, delinquent, address_city, metadata_order_id, invoice_settings_rendering_options
     from sequin.stripe_records_customer order by created`,
  );
  assert.equal(rows.rowCount, count);
  const first = rows.rows[0];
  assert.equal(first.created.toISOString(), new Date(1680893993 * 1000).toISOString());
  assert.equal(first.balance, "-500");
  assert.equal(first.delinquent, true);
  assert.equal(first.address_city, "South San Francisco");
  assert.equal(first.metadata_order_id, "6735");
  assert.deepEqual(first.invoice_settings_rendering_options, { amount_tax_display: "include_inclusive_tax" });
  assert.equal(rows.rows[1].metadata_order_id, null);
});

test("HubSpot contacts: string numbers, booleans, epoch milliseconds, ISO times, empty strings, a misfit", async () => {
  const answer = await ok("POST", `/v1/consumers/postgres/${hubspot}/views?apply=true`, {
    collection_id: "contacts",
    name: "contacts",
  });
  const columns = byName(answer.columns);
  const summary = (name: string) => {
    const c = columns[name]!;
    return [c.type, c.nullable, c.sample_errors];
  };
  assert.deepEqual(summary("properties_createdate"), ["timestamptz", false, 0]);
  assert.deepEqual(summary("properties_lastmodifieddate"), ["timestamptz", false, 0]);
  assert.deepEqual(summary("properties_closedate"), ["timestamptz", true, 0]);
  assert.deepEqual(summary("properties_annualrevenue"), ["numeric", false, 0]);
  assert.deepEqual(summary("properties_numemployees"), ["text", false, 1]);
  assert.deepEqual(summary("properties_hs_email_optout"), ["boolean", false, 0]);
  assert.deepEqual(summary("properties_date_of_birth"), ["date", true, 0]);
  assert.deepEqual(summary("properties_hs_object_id"), ["bigint", false, 0]);
  assert.deepEqual(summary("properties_email"), ["text", false, 0]);
  assert.deepEqual(summary("created_at"), ["timestamptz", false, 0]);
  assert.deepEqual(summary("archived"), ["boolean", false, 0]);
  assert.equal(columns.properties_email!.source_path, "properties.email");

  const contacts = hubspotContacts(count);
  const rows = await asUser.query(
    `select upstream_id, properties_lastmodifieddate as modified, properties_closedate as closed,
       properties_annualrevenue as revenue, properties_hs_email_optout as optout,
       properties_date_of_birth::text as born, properties_numemployees as employees
     from sequin.contacts order by properties_hs_object_id`,
  );
  assert.equal(rows.rowCount, count);
  for (const [i, row] of rows.rows.entries()) {
    const p = contacts[i]!.payload.properties as Record<string, string | null>;
    assert.equal(row.upstream_id, contacts[i]!.upstream_id);
    assert.equal(row.modified.getTime(), Number(p.lastmodifieddate), "epoch milliseconds, exactly");
    assert.equal(row.closed === null ? "" : String(row.closed.getTime()), p.closedate);
    assert.equal(Number(row.revenue), Number(p.annualrevenue));
    assert.equal(row.optout, p.hs_email_optout === "true");
    assert.equal(row.born, p.date_of_birth);
    assert.equal(row.employees, p.numemployees);
  }
});

test("Salesforce contacts: attributes as columns, +0000 offsets, custom fields, numbers", async () => {
  const answer = await ok("POST", `/v1/consumers/postgres/${salesforce}/views?apply=true`, {
    collection_id: "Contact",
  });
  assert.equal(answer.view.name, "salesforce_records_contact");
  const columns = byName(answer.columns);
  assert.deepEqual(
    [
      "attributes_type",
      "attributes_url",
      "id",
      "system_modstamp",
      "created_date",
      "birthdate",
      "number_of_employees__c",
      "annual_revenue",
      "mailing_address_latitude",
      "mailing_address_geocode_accuracy",
      "is_deleted",
      "account_id",
    ].map((n) => [n, columns[n]?.type]),
    [
      ["attributes_type", "text"],
      ["attributes_url", "text"],
      ["id", "text"],
      ["system_modstamp", "timestamptz"],
      ["created_date", "timestamptz"],
      ["birthdate", "date"],
      ["number_of_employees__c", "bigint"],
      ["annual_revenue", "numeric"],
      ["mailing_address_latitude", "numeric"],
      ["mailing_address_geocode_accuracy", "text"],
      ["is_deleted", "boolean"],
      ["account_id", "text"],
    ],
  );
  const rows = await asUser.query(
    `select system_modstamp, attributes_type, annual_revenue::text, birthdate::text
     from sequin.salesforce_records_contact where id = '0035e00000ABC001AAA'`,
  );
  assert.equal(rows.rows[0].system_modstamp.toISOString(), "2024-01-02T03:04:01.000Z");
  assert.equal(rows.rows[0].attributes_type, "Contact");
  assert.equal(rows.rows[0].annual_revenue, "15000000.25");
  assert.equal(rows.rows[0].birthdate, null);
});

test("rows arriving later with values that fit nothing read as NULL: the view never fails", async () => {
  const answer = await ok("POST", `/v1/consumers/postgres/${hubspot}/views?apply=true`, {
    collection_id: "contacts",
    name: "contacts_later",
  });
  assert.equal(byName(answer.columns).properties_annualrevenue!.type, "numeric");
  const table = `${target.schema}.hubspot_records`;
  await target.admin.query(
    `insert into ${table} select gen_random_uuid(), sync_id, collection_id, 'odd', $1, upstream_updated_at, now(), now()
     from ${table} limit 1`,
    [
      {
        id: "odd",
        properties: {
          annualrevenue: "lots",
          createdate: "2024-02-30T00:00:00Z",
          lastmodifieddate: "1e400",
          hs_email_optout: "maybe",
          date_of_birth: { year: 1990 },
          hs_object_id: "99999999999999999999",
        },
        createdAt: ["not", "a", "time"],
      },
    ],
  );
  const row = await asUser.query("select * from sequin.contacts_later where upstream_id = 'odd'");
  assert.equal(row.rowCount, 1);
  for (const column of [
    "properties_annualrevenue",
    "properties_createdate",
    "properties_lastmodifieddate",
    "properties_hs_email_optout",
    "properties_date_of_birth",
    "properties_hs_object_id",
    "created_at",
  ]) {
    assert.equal(row.rows[0][column], null, column);
  }
  await target.admin.query(`delete from ${table} where upstream_id = 'odd'`);
});

test("odd keys: reserved words, collisions with the record's columns and each other, long and unicode names", async () => {
  const sync = await ok("POST", "/v1/syncs", { name: "odd-keys", provider: "zendesk" }, 201);
  const payload = {
    order: 1,
    user: "ann",
    select: true,
    sync_id: "theirs",
    firstName: "Ann",
    first_name: "Ann",
    Prénom: "Anne",
    "2fa": false,
    'we"ird': "x",
    [`a_${"very_".repeat(14)}long_key`]: "y",
    [`a_${"very_".repeat(14)}long_key_too`]: "z",
  };
  await ok("POST", `/v1/syncs/${sync.id}/records`, {
    records: [
      { collection_id: "tickets", upstream_id: "1", payload, upstream_updated_at: "2024-01-01T00:00:00Z" },
    ],
  });
  const consumer = await ok(
    "POST",
    "/v1/consumers/postgres",
    {
      name: "odd",
      target_id: targetId,
      filter: { sync_id: sync.id },
      table: { schema: target.schema, name: "odd" },
    },
    201,
  );
  await asUser.query(consumer.create_table_sql);
  await ok("POST", `/v1/consumers/postgres/${consumer.id}/start`);
  await waitFor(
    "odd row written",
    async () => (await asUser.query("select 1 from sequin.odd")).rowCount === 1,
  );
  const answer = await ok("POST", `/v1/consumers/postgres/${consumer.id}/views?apply=true`, {
    collection_id: "tickets",
    name: "select",
  });
  const names = answer.columns.map((c: Column) => c.name);
  for (const name of [
    "order",
    "user",
    "select",
    "sync_id_2",
    "first_name",
    "first_name_2",
    "prénom",
    "2fa",
    "we_ird",
  ]) {
    assert.ok(names.includes(name), `${name} in ${names.join(", ")}`);
  }
  assert.equal(byName(answer.columns).sync_id_2!.source_path, "sync_id");
  assert.equal(byName(answer.columns).first_name_2!.source_path, "firstName");
  assert.equal(new Set(names).size, names.length);
  for (const name of names) assert.ok(Buffer.byteLength(name) <= 63, name);
  const row = await asUser.query('select "order", "select", "user", sync_id, sync_id_2 from sequin."select"');
  assert.equal(row.rows[0].order, "1");
  assert.equal(row.rows[0].select, true);
  assert.equal(row.rows[0].sync_id_2, "theirs");
  assert.notEqual(row.rows[0].sync_id, "theirs");
});

test("validation: unknown consumer, unknown collection, bad sample, name and fields", async () => {
  const unknown = await generate("00000000-0000-4000-8000-000000000000", { collection_id: "customer" });
  assert.equal(unknown.status, 404);
  assert.equal(unknown.body.code, "not_found");

  const missing = await generate(stripe, { collection_id: "invoices" });
  assert.equal(missing.status, 400);
  assert.equal(missing.body.code, "validation_failed");
  assert.match(
    missing.body.validation_errors.collection_id[0],
    /holds no rows of collection "invoices".*collections there: customer/,
  );

  const cases: [unknown, string, string][] = [
    [{}, "", "collection_id"],
    [{ collection_id: "" }, "", "collection_id"],
    [{ collection_id: "customer", sample: 0 }, "", "sample"],
    [{ collection_id: "customer", sample: 10_001 }, "", "sample"],
    [{ collection_id: "customer", sample: 1.5 }, "", "sample"],
    [{ collection_id: "customer", sample: "10" }, "", "sample"],
    [{ collection_id: "customer", name: "" }, "", "name"],
    [{ collection_id: "customer", name: "x".repeat(64) }, "", "name"],
    [{ collection_id: "customer", name: "stripe_records" }, "", "name"],
    [{ collection_id: "customer", colour: "red" }, "", ""],
    [{ collection_id: "customer" }, "?apply=yes", "apply"],
  ];
  for (const [body, query, field] of cases) {
    const answer = await generate(stripe, body, query);
    assert.equal(answer.status, 400, `${JSON.stringify(body)}${query}: ${JSON.stringify(answer.body)}`);
    assert.equal(answer.body.code, "validation_failed");
    if (field)
      assert.ok(JSON.stringify(answer.body.validation_errors).includes(field), JSON.stringify(answer.body));
  }
  const sampled = await ok("POST", `/v1/consumers/postgres/${stripe}/views`, {
    collection_id: "customer",
    sample: 5,
  });
  assert.equal(sampled.sampled_rows, 5);
  assert.equal(sampled.applied, false);
});

test("the target's refusals: no create privilege, a table of that name, a view whose columns changed, a target down", async () => {
  await target.admin.query(`revoke create on schema ${target.schema} from ${target.user}`);
  try {
    const refused = await generate(stripe, { collection_id: "customer", name: "not_allowed" }, "?apply=true");
    assert.equal(refused.status, 409, JSON.stringify(refused.body));
    assert.equal(refused.body.sqlstate, "42501");
    assert.match(
      refused.body.summary,
      new RegExp(
        `may not create view "sequin"."not_allowed".*grant create on schema "sequin" to "${target.user}"`,
      ),
    );
    // without apply the statement is still handed out: reading needs no create privilege
    assert.equal((await generate(stripe, { collection_id: "customer", name: "not_allowed" })).status, 200);
  } finally {
    await target.admin.query(`grant create on schema ${target.schema} to ${target.user}`);
  }

  const table = await generate(stripe, { collection_id: "customer", name: "hubspot_records" }, "?apply=true");
  assert.equal(table.status, 409);
  assert.match(table.body.summary, /"sequin"."hubspot_records" exists in the target and is not a view/);

  // the shape changed: the newest row alone lacks columns the applied view has
  await ok("POST", `/v1/consumers/postgres/${stripe}/views?apply=true`, {
    collection_id: "customer",
    name: "shape",
  });
  const changed = await generate(
    stripe,
    { collection_id: "customer", name: "shape", sample: 1 },
    "?apply=true",
  );
  assert.equal(changed.status, 409, JSON.stringify(changed.body));
  assert.equal(changed.body.fix_sql, 'drop view "sequin"."shape";');
  await asUser.query(changed.body.fix_sql);
  await ok("POST", `/v1/consumers/postgres/${stripe}/views?apply=true`, {
    collection_id: "customer",
    name: "shape",
    sample: 1,
  });

  // the consumer's table missing, or not readable by the target's user
  const tableless = await ok(
    "POST",
    "/v1/consumers/postgres",
    {
      name: "tableless",
      target_id: targetId,
      filter: { provider: "stripe" },
      table: { schema: target.schema, name: "nowhere" },
    },
    201,
  );
  const noTable = await generate(tableless.id, { collection_id: "customer" });
  assert.equal(noTable.status, 409);
  assert.match(
    noTable.body.summary,
    /table "sequin"."nowhere" does not exist in the target: create it with the consumer's create_table_sql/,
  );
  await target.admin.query(`revoke select on ${target.schema}.stripe_records from ${target.user}`);
  try {
    const unreadable = await generate(stripe, { collection_id: "customer" });
    assert.equal(unreadable.status, 409);
    assert.equal(unreadable.body.sqlstate, "42501");
    assert.match(
      unreadable.body.summary,
      new RegExp(
        `may not read table "sequin"."stripe_records": grant select on "sequin"."stripe_records" to "${target.user}";`,
      ),
    );
  } finally {
    await target.admin.query(`grant select on ${target.schema}.stripe_records to ${target.user}`);
  }

  // a target registered while it answered, then gone
  const proxy = await TcpProxy.start({ host: target.host, port: target.port });
  const down = await ok(
    "POST",
    "/v1/targets/postgres",
    {
      name: "down",
      connection: {
        host: "127.0.0.1",
        port: proxy.port,
        database: target.database,
        username: target.user,
        password: target.password,
        ssl: "disable",
      },
    },
    201,
  );
  await proxy.close();
  const consumer = await ok(
    "POST",
    "/v1/consumers/postgres",
    {
      name: "to-down",
      target_id: down.id,
      filter: { provider: "stripe" },
      table: { schema: "s", name: "t" },
    },
    201,
  );
  const unreachable = await generate(consumer.id, { collection_id: "customer" });
  assert.equal(unreachable.status, 422);
  assert.equal(unreachable.body.code, "target_unreachable");
  assert.match(unreachable.body.summary, /cannot connect to the target: connection refused/);
});
