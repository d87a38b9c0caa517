import assert from "node:assert/strict";
import { test } from "node:test";
import { delay } from "../../src/runtime/index.js";

test("delay resolves true once the time ran out", async () => {
  const started = Date.now();
  assert.equal(await delay(30), true);
  assert.ok(Date.now() - started >= 25);
});

test("an abort cuts the delay short and resolves false", async () => {
  const controller = new AbortController();
  const started = Date.now();
  const waiting = delay(10_000, controller.signal);
  controller.abort();
  assert.equal(await waiting, false);
  assert.ok(Date.now() - started < 1000);
});

test("an already aborted signal does not wait at all", async () => {
  assert.equal(await delay(10_000, AbortSignal.abort()), false);
});
