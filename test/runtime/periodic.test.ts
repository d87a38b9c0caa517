import assert from "node:assert/strict";
import { test } from "node:test";
import { Periodic } from "../../src/runtime/index.js";
import { waitFor } from "../helpers/wait.js";

test("rounds repeat, never overlap, and stop waits for the round in flight", async () => {
  let running = 0;
  let overlapped = false;
  let rounds = 0;
  let finished = 0;
  const periodic = new Periodic(
    5,
    async () => {
      running += 1;
      if (running > 1) overlapped = true;
      rounds += 1;
      await new Promise((resolve) => setImmediate(resolve));
      running -= 1;
      finished += 1;
    },
    () => {},
  );
  periodic.start(0);
  await waitFor("three rounds", () => rounds >= 3);
  await periodic.stop();
  assert.equal(periodic.isStopped, true);
  assert.equal(finished, rounds, "no round was left half done");
  const after = rounds;
  await new Promise((resolve) => setTimeout(resolve, 30));
  assert.equal(rounds, after, "no round after stop");
  assert.equal(overlapped, false);
});

test("a failing round is reported once, not every round, and the rounds go on", async () => {
  const reported: unknown[] = [];
  let rounds = 0;
  const periodic = new Periodic(
    2,
    async () => {
      rounds += 1;
      throw new Error(`store down (round ${rounds})`);
    },
    (error) => reported.push(error),
  );
  periodic.start(0);
  await waitFor("ten failing rounds", () => rounds >= 10);
  await periodic.stop();
  assert.equal(reported.length, 1, "repeated failures within a minute are reported once");
  assert.match((reported[0] as Error).message, /round 1\)/);
});

test("after a round succeeds, the next failure is reported at once", async () => {
  const reported: unknown[] = [];
  let rounds = 0;
  const periodic = new Periodic(
    2,
    async () => {
      rounds += 1;
      if (rounds !== 2) throw new Error(`failed round ${rounds}`);
    },
    (error) => reported.push(error),
  );
  periodic.start(0);
  await waitFor("three rounds", () => rounds >= 3);
  await periodic.stop();
  assert.deepEqual(
    reported.map((e) => (e as Error).message),
    ["failed round 1", "failed round 3"],
  );
});
