/**
 * The consumer lifecycle, written down once (docs/architecture.md, "The consumer lifecycle"). Rows are states, columns events; a cell is
 * the next state, "same" to stay, or "refuse" when the event makes no sense there (the API answers 409).
 * Tests walk this table cell by cell; runners and the API only ever move states through `transition`.
 */

export const consumerStates = [
  "inactive",
  "backfilling",
  "live",
  "paused",
  "waiting_for_target",
  "failing",
] as const;
export type ConsumerState = (typeof consumerStates)[number];

export const consumerEvents = [
  "start",
  "pause",
  "resume",
  "caught_up",
  "target_unreachable",
  "target_reachable",
  "write_refused",
  "write_succeeded",
  "service_restarted",
] as const;
export type ConsumerEvent = (typeof consumerEvents)[number];

/** Where a running consumer goes back to after waiting or failing: backfilling or live, from its position. */
export type RunningPhase = "backfilling" | "live";
type Cell = ConsumerState | "same" | "refuse" | "phase";

// "phase" = back to backfilling or live, whichever the consumer was in (it remembers by its backfill head).
const table: Record<ConsumerState, Record<ConsumerEvent, Cell>> = {
  inactive: {
    start: "backfilling",
    pause: "refuse",
    resume: "refuse",
    caught_up: "same",
    target_unreachable: "same",
    target_reachable: "same",
    write_refused: "same",
    write_succeeded: "same",
    service_restarted: "same",
  },
  backfilling: {
    start: "same",
    pause: "paused",
    resume: "same",
    caught_up: "live",
    target_unreachable: "waiting_for_target",
    target_reachable: "same",
    write_refused: "failing",
    write_succeeded: "same",
    service_restarted: "same",
  },
  live: {
    start: "same",
    pause: "paused",
    resume: "same",
    caught_up: "same",
    target_unreachable: "waiting_for_target",
    target_reachable: "same",
    write_refused: "failing",
    write_succeeded: "same",
    service_restarted: "same",
  },
  paused: {
    start: "same",
    pause: "same",
    resume: "phase",
    caught_up: "same",
    target_unreachable: "same",
    target_reachable: "same",
    write_refused: "same",
    write_succeeded: "same",
    service_restarted: "same",
  },
  waiting_for_target: {
    start: "same",
    pause: "paused",
    resume: "same",
    caught_up: "same",
    target_unreachable: "same",
    target_reachable: "phase",
    write_refused: "same",
    write_succeeded: "phase",
    service_restarted: "same",
  },
  failing: {
    start: "same",
    pause: "paused",
    resume: "same",
    caught_up: "same",
    target_unreachable: "waiting_for_target",
    target_reachable: "same",
    write_refused: "same",
    write_succeeded: "phase",
    service_restarted: "same",
  },
};

export type Transition = { ok: true; state: ConsumerState } | { ok: false; reason: string };

export function transition(state: ConsumerState, event: ConsumerEvent, phase: RunningPhase): Transition {
  const cell = table[state][event];
  switch (cell) {
    case "refuse":
      return {
        ok: false,
        reason: `cannot ${event.replace(/_/g, " ")} a consumer that is ${state.replace(/_/g, " ")}`,
      };
    case "same":
      return { ok: true, state };
    case "phase":
      return { ok: true, state: phase };
    default:
      return { ok: true, state: cell };
  }
}

/** States in which a worker should be running the consumer. */
export function isRunning(state: ConsumerState): boolean {
  switch (state) {
    case "backfilling":
    case "live":
    case "waiting_for_target":
    case "failing":
      return true;
    case "inactive":
    case "paused":
      return false;
    default: {
      const unreachable: never = state;
      return unreachable;
    }
  }
}
