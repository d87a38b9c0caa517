/** The lifecycle of docs/architecture.md, cell by cell: "→x" moves to x, "=" stays, "409" refuses. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { type ConsumerEvent, consumerEvents, consumerStates, transition } from "../../src/consumer/index.js";

// columns: start pause resume caught_up target_unreachable target_reachable write_refused write_succeeded service_restarted
// "phase" = back to backfilling or live, from its position
const expected: Record<string, string[]> = {
  inactive: ["→backfilling", "409", "409", "=", "=", "=", "=", "=", "="],
  backfilling: ["=", "→paused", "=", "→live", "→waiting_for_target", "=", "→failing", "=", "="],
  live: ["=", "→paused", "=", "=", "→waiting_for_target", "=", "→failing", "=", "="],
  paused: ["=", "=", "phase", "=", "=", "=", "=", "=", "="],
  waiting_for_target: ["=", "→paused", "=", "=", "=", "phase", "=", "phase", "="],
  failing: ["=", "→paused", "=", "=", "→waiting_for_target", "=", "=", "phase", "="],
};

test("every cell of the lifecycle table", () => {
  for (const state of consumerStates) {
    consumerEvents.forEach((event: ConsumerEvent, column) => {
      const cell = expected[state]![column]!;
      for (const phase of ["backfilling", "live"] as const) {
        const result = transition(state, event, phase);
        const where = `${state} × ${event} (${phase})`;
        if (cell === "409") assert.equal(result.ok, false, where);
        else if (cell === "=") assert.deepEqual(result, { ok: true, state }, where);
        else if (cell === "phase") assert.deepEqual(result, { ok: true, state: phase }, where);
        else assert.deepEqual(result, { ok: true, state: cell.slice(1) }, where);
      }
    });
  }
});

test("refusals explain themselves", () => {
  const result = transition("inactive", "pause", "live");
  assert.deepEqual(result, { ok: false, reason: "cannot pause a consumer that is inactive" });
});
