/**
 * Deadlines and cancellation for work that may never answer (a black-holed connection): `withTimeout` races
 * the work with a deadline and, at the deadline, aborts the signal it handed the work, so the work can cut
 * what it holds (destroy a socket, end a client); `abortable` makes any promise give up when a signal aborts.
 */

export class TimeoutError extends Error {
  override name = "TimeoutError";
  constructor(readonly ms: number) {
    super(`no answer within ${ms} ms`);
  }
}

/**
 * Runs `work`, rejecting with a TimeoutError after `ms`. The signal given to `work` aborts at that moment
 * (its reason is the TimeoutError); a value that arrives after the deadline is handed to `discard`.
 */
export async function withTimeout<T>(
  ms: number,
  work: (signal: AbortSignal) => Promise<T>,
  discard: (late: T) => void = () => {},
): Promise<T> {
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(new TimeoutError(ms)), ms);
  try {
    let started: Promise<T>;
    try {
      started = work(deadline.signal);
    } catch (error) {
      started = Promise.reject(error);
    }
    return await abortable(started, deadline.signal, discard);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * `promise`, or a rejection with the signal's reason once it aborts; a value that arrives after that is
 * handed to `discard` (e.g. a connection that opened too late is closed).
 */
export function abortable<T>(
  promise: Promise<T>,
  signal: AbortSignal,
  discard: (late: T) => void = () => {},
): Promise<T> {
  if (signal.aborted) {
    promise.then(discard, () => {});
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      promise.then(discard, () => {});
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        if (signal.aborted) discard(value);
        else resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}
