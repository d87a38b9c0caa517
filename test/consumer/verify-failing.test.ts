/**
 * Verify answers for the consumer as it is: on a failing consumer it leads with the failure and the
 * statement that fixes it, never "ready to start"; every fix statement is ready to paste.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { verifyResult } from "../../src/console/consumer-setup-page.js";
import { createSync, type IncomingRecord, ingest } from "../../src/stream/index.js";
import {
  createConsumerWorld,
  createSeedTarget,
  startSeedConsumer,
  tableMatchesStream,
} from "../helpers/consumer-world.js";
import { waitFor } from "../helpers/wait.js";

const world = await createConsumerWorld();
const target = await createSeedTarget();
const pool = world.store.pool;

const contacts = (emails: string[], second: number): IncomingRecord[] =>
  emails.map((email, i) => ({
    collection_id: "contact",
    upstream_id: String(i + 1),
    payload: { email },
    upstream_updated_at: new Date(Date.UTC(2024, 0, 1, 0, 0, second)).toISOString(),
  }));

async function failingConsumer(name: string) {
  const sync = await createSync(pool, { name, provider: name });
  const consumer = await startSeedConsumer(world, target, name, { provider: name });
  await waitFor("live", async () => (await world.consumers.get(consumer.id)).state === "live");
  await target.admin.query(
    `create unique index ${name}_email on ${target.schema}.${name} ((payload->>'email'))`,
  );
  await ingest(pool, sync.id, contacts(["same@example.com", "same@example.com"], 1));
  const failing = await waitFor("failing", async () => {
    const c = await world.consumers.get(consumer.id);
    return c.state === "failing" ? c : undefined;
  });
  return { sync, consumer, failing };
}

test("verify on a failing consumer leads with the failure and the statement that fixes it", async () => {
  const { consumer, failing } = await failingConsumer("clashing");
  const table = `"${target.schema}"."clashing"`;
  const fix = `drop index "${target.schema}"."clashing_email";`;

  const verify = await world.consumers.verify(consumer.id);
  assert.equal(verify.ok, false, "a failing consumer is never ready");
  assert.equal(verify.state, "failing");
  assert.equal(verify.failure?.sqlstate, "23505");
  assert.equal(verify.failure?.record?.upstream_id, failing.last_error?.record?.upstream_id);
  assert.equal(verify.failure?.since, failing.state_changed_at);
  assert.deepEqual(
    verify.problems.map((p) => [p.kind, p.fix_sql]),
    [["constraint", fix]],
    "the index that refuses the write is a problem now, not a warning",
  );
  assert.match(verify.problems[0]!.message, /constraint "clashing_email" refuses record contact\/\d/);
  assert.deepEqual(verify.warnings, []);
  assert.match(
    verify.summary,
    /^The consumer is failing since \d{4}-\S+?Z(, \d+ retr(y|ies))?: the target refuses record contact\/\d with SQLSTATE 23505 \(constraint "clashing_email"\)\. Fix: drop index "sequin"\."clashing_email"; the consumer retries by itself\.$/,
  );
  assert.doesNotMatch(verify.summary, /ready to start/);
  const panel = verifyResult(verify).text;
  assert.match(panel, /data-verified="failing"/);
  assert.match(panel, /<div class="alert error" role="alert">The consumer is failing since /);
  assert.doesNotMatch(panel, /ready to start|alert ok/);

  await target.admin.query(fix);
  await waitFor("live again", async () => (await world.consumers.get(consumer.id)).state === "live");
  const after = await world.consumers.verify(consumer.id);
  assert.equal(after.ok, true);
  assert.equal(after.failure, undefined);
  assert.equal(after.summary, "The table matches what Sequin writes; the consumer is live.");
  assert.match(verifyResult(after).text, /data-verified="ok"/);
  assert.deepEqual(await tableMatchesStream(pool, target.admin, table, { provider: "clashing" }), {
    missing: [],
    extra: [],
    stale: [],
  });
});

test("every fix statement verify names ends with a semicolon", async () => {
  const sync = await createSync(pool, { name: "fixes", provider: "fixes" });
  const registered = await world.targets.create({
    name: "target-fixes",
    connection: {
      host: target.host,
      port: target.port,
      database: target.database,
      username: target.user,
      password: target.password,
      ssl: "disable",
    },
  });
  const consumer = await world.consumers.create({
    name: "fixes",
    target_id: registered.id,
    filter: { sync_id: sync.id },
    table: { schema: target.schema, name: "fixes" },
  });
  await target.admin.query(
    `create table ${target.schema}.fixes (sequin_id text, payload json, extra int not null);
     create or replace function ${target.schema}.touch() returns trigger language plpgsql as $$ begin return new; end $$;
     create trigger touch before insert on ${target.schema}.fixes for each row execute function ${target.schema}.touch();`,
  );
  const verify = await world.consumers.verify(consumer.id);
  assert.equal(verify.state, "inactive");
  const problem = verify.problems.length === 1 ? "problem" : "problems";
  assert.equal(verify.summary, `${verify.problems.length} ${problem} to fix before starting.`);
  const fixes = [...verify.problems, ...verify.warnings].map((f) => f.fix_sql);
  assert.ok(fixes.length > 5);
  for (const fix of fixes) assert.match(fix ?? "", /;$/, `${fix}`);
});
