import assert from "node:assert/strict";
import { test } from "node:test";
import { abortable, TimeoutError, withTimeout } from "../../src/runtime/index.js";

const never = new Promise<never>(() => {});

test("work that answers in time gives its value", async () => {
  assert.equal(await withTimeout(1000, async () => 42), 42);
});

test("work that fails in time gives its error", async () => {
  await assert.rejects(
    withTimeout(1000, async () => {
      throw new Error("refused");
    }),
    /refused/,
  );
});

test("work that never answers is given up at the deadline, and told so through its signal", async () => {
  let cut: unknown;
  await assert.rejects(
    withTimeout(30, (signal) => {
      signal.addEventListener("abort", () => {
        cut = signal.reason;
      });
      return never;
    }),
    (error: unknown) => error instanceof TimeoutError && error.message === "no answer within 30 ms",
  );
  assert.ok(cut instanceof TimeoutError, "the work heard of the deadline so it can cut what it holds");
});

test("a value that arrives after the deadline is handed to discard", async () => {
  let late: string | undefined;
  let arrive!: (value: string) => void;
  const slow = new Promise<string>((resolve) => {
    arrive = resolve;
  });
  await assert.rejects(
    withTimeout(
      20,
      () => slow,
      (value) => {
        late = value;
      },
    ),
    TimeoutError,
  );
  arrive("connection");
  await slow;
  await Promise.resolve();
  assert.equal(late, "connection");
});

test("abortable gives up with the signal's reason", async () => {
  const controller = new AbortController();
  const waiting = abortable(never, controller.signal);
  controller.abort(new Error("target down"));
  await assert.rejects(waiting, /target down/);
  await assert.rejects(abortable(Promise.resolve(1), AbortSignal.abort(new Error("already"))), /already/);
});
