import assert from "node:assert/strict";
import { test } from "node:test";
import { Backoff, backoffDelay } from "../../src/runtime/index.js";

const options = { initialMs: 100, maxMs: 1000 };

test("a delay lies between the initial delay and a ceiling that doubles per attempt, capped", () => {
  const bounds = [0, 1, 2, 3, 4, 10, 100].map((attempt) => [
    backoffDelay(attempt, options, () => 0),
    backoffDelay(attempt, options, () => 0.999999),
  ]);
  assert.deepEqual(bounds, [
    [100, 200],
    [100, 400],
    [100, 800],
    [100, 1000],
    [100, 1000],
    [100, 1000],
    [100, 1000],
  ]);
});

test("retries of many consumers after one outage spread out instead of coming in lock-step", () => {
  const firstRetries = new Set(Array.from({ length: 50 }, () => new Backoff(options).next()));
  assert.ok(firstRetries.size > 10, `only ${firstRetries.size} distinct first delays among 50`);
  for (const d of firstRetries) assert.ok(d >= 100 && d <= 200, `${d} outside [100, 200]`);
});

test("a Backoff grows with each failure and starts over after reset", () => {
  const backoff = new Backoff(options, () => 1);
  assert.deepEqual([backoff.next(), backoff.next(), backoff.next(), backoff.next()], [200, 400, 800, 1000]);
  assert.equal(backoff.attempts, 4);
  backoff.reset();
  assert.equal(backoff.attempts, 0);
  assert.equal(backoff.next(), 200);
});

test("an initial delay above the cap waits the cap", () => {
  assert.equal(
    backoffDelay(0, { initialMs: 5000, maxMs: 3000 }, () => 0.5),
    3000,
  );
});
