/**
 * The pieces every long-running part uses, written once: jittered backoff, an abortable delay, deadlines,
 * and a periodic round.
 */
export { Backoff, type BackoffOptions, backoffDelay } from "./backoff.js";
export { delay } from "./delay.js";
export { Periodic } from "./periodic.js";
export { abortable, TimeoutError, withTimeout } from "./timeout.js";
export { type LoopWork, WorkLoop, type WorkLoopOptions } from "./work-loop.js";
