/**
 * A consumer the target refuses (or cannot reach) is in one incident until its state changes: retries are
 * counted, and the time the incident began (state_changed_at, "failing since", "waiting since") stays.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { createSync, type IncomingRecord, ingest } from "../../src/stream/index.js";
import { createConsumerWorld, createSeedTarget, startSeedConsumer } from "../helpers/consumer-world.js";
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

test("a failing consumer retried again and again keeps the time its failure began and counts the retries", async () => {
  const { consumer, failing } = await failingConsumer("retried");
  const since = failing.state_changed_at;
  const retried = await waitFor("four retries", async () => {
    const c = await world.consumers.get(consumer.id);
    return (c.last_error?.attempts ?? 0) >= 5 ? c : undefined;
  });
  assert.equal(retried.state, "failing");
  const history = (await world.consumers.events(consumer.id)).map(
    (e) => `${e.from_state}→${e.to_state}: ${e.note}`,
  );
  assert.equal(retried.state_changed_at, since, `a retry is no new incident: ${history.join(" | ")}`);
  const retries = retried.last_error!.attempts! - 1;
  assert.match(
    retried.health.notes.join(" "),
    new RegExp(`^Failing since ${since.replace(/\./g, "\\.")}, ${retries} retries: `),
  );
  const events = await world.consumers.events(consumer.id);
  assert.deepEqual(
    events.map((e) => e.to_state),
    ["failing", "live", "backfilling"],
    "one transition for the whole incident",
  );
});

test("a consumer waiting for its target keeps the time the wait began and counts the probes", async () => {
  const sync = await createSync(pool, { name: "locked-out", provider: "locked-out" });
  const consumer = await startSeedConsumer(world, target, "locked-out", { provider: "locked-out" });
  await waitFor("live", async () => (await world.consumers.get(consumer.id)).state === "live");
  await target.admin.query(`alter role ${target.user} nologin`);
  try {
    await ingest(pool, sync.id, contacts(["a@example.com"], 1));
    const waiting = await waitFor("waiting_for_target", async () => {
      const c = await world.consumers.get(consumer.id);
      return c.state === "waiting_for_target" ? c : undefined;
    });
    const since = waiting.state_changed_at;
    const probed = await waitFor("four failed probes", async () => {
      const c = await world.consumers.get(consumer.id);
      return (c.last_error?.attempts ?? 0) >= 5 ? c : undefined;
    });
    assert.equal(probed.state, "waiting_for_target");
    assert.equal(probed.state_changed_at, since);
    const retries = probed.last_error!.attempts! - 1;
    assert.match(
      probed.health.notes.join(" "),
      new RegExp(
        `^Waiting for target "target-locked-out" since ${since.replace(/\./g, "\\.")}, ${retries} retries: `,
      ),
    );
  } finally {
    await target.admin.query(`alter role ${target.user} login`);
  }
  const back = await waitFor("live again", async () => {
    const c = await world.consumers.get(consumer.id);
    return c.state === "live" && c.lag.records === 0 ? c : undefined;
  });
  assert.equal(back.last_error, null);
});
