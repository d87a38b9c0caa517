/** The health notes say what ends a problem, in words a user acts on. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { type ConsumerFacts, consumerHealth } from "../../src/consumer/consumer-health.js";
import { classifyTargetError } from "../../src/targets/postgres/index.js";

const targetId = "6f1c2a4e-9d3b-4c1a-8e2f-0a1b2c3d4e5f";
const facts: ConsumerFacts = {
  state: "live",
  stateChangedAt: new Date("2024-05-01T12:00:00Z"),
  targetId,
  targetName: "app",
  lastError: null,
  lagSeconds: 0,
  lagRecords: 0,
  lagThresholdSeconds: 300,
};

/** An error as the driver raises it when the server refuses the login. */
function loginRefused(sqlstate: string, message: string) {
  return Object.assign(new Error(message), { code: sqlstate, severity: "FATAL" });
}

test("a refused login says to update the target's password: waiting alone will not end it", () => {
  for (const [sqlstate, text] of [
    ["28P01", 'password authentication failed for user "sequin"'],
    ["28000", 'no pg_hba.conf entry for host "10.0.0.9", user "sequin", database "app"'],
  ] as const) {
    const classified = classifyTargetError(loginRefused(sqlstate, text));
    assert.equal(classified.kind, "unreachable");
    // as the runner records it (message only), and with its SQLSTATE
    for (const lastError of [
      { message: `target unreachable: ${classified.message}` },
      { message: classified.message, sqlstate },
    ]) {
      const [note] = consumerHealth({ ...facts, state: "waiting_for_target", lastError }).notes;
      assert.match(note!, /update the target's password/);
      assert.ok(note!.includes("console → Targets → Edit"), note);
      assert.ok(note!.includes(`PATCH /v1/targets/postgres/${targetId}`), note);
      assert.doesNotMatch(note!, /when the target answers again/);
    }
  }
  const refusedConnection = consumerHealth({
    ...facts,
    state: "waiting_for_target",
    lastError: { message: "target unreachable: connection refused: connect ECONNREFUSED 127.0.0.1:5432" },
  });
  assert.match(
    refusedConnection.notes[0]!,
    /resumes by itself from its position when the target answers again/,
  );
  assert.doesNotMatch(refusedConnection.notes[0]!, /password/);
});

test("notes count right, point at no file path, and say the consumer retries (it does not halt)", () => {
  const failing = consumerHealth({
    ...facts,
    state: "failing",
    lastError: {
      message: "the target refused record contacts/1 with SQLSTATE 23505: duplicate key",
      sqlstate: "23505",
    },
  });
  assert.doesNotMatch(failing.notes.join(" "), /docs\/|\.md\b|halt/);
  assert.match(failing.notes[0]!, /retries the write with backoff/);

  const behind = (records: number) =>
    consumerHealth({ ...facts, lagSeconds: 900, lagRecords: records }).notes.join(" ");
  assert.match(behind(1), /Behind: 1 change pending/);
  assert.match(behind(2), /Behind: 2 changes pending/);
  assert.doesNotMatch(behind(1) + behind(2), /\(s\)/);
});

test("warnings are notes and leave the status as it is", () => {
  const health = consumerHealth({ ...facts, warnings: ['No sync matches provider "hubspt" yet'] });
  assert.equal(health.status, "healthy");
  assert.deepEqual(health.notes, ['No sync matches provider "hubspt" yet']);
});
