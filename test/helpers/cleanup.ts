/**
 * Cleanups for a test file, run after its tests in reverse order of registration (last set up, first torn
 * down), so a worker stops before the pools it uses end and databases are dropped last.
 */
import { after } from "node:test";

const stack: (() => Promise<unknown> | unknown)[] = [];
let registered = false;

export function onCleanup(fn: () => Promise<unknown> | unknown): void {
  stack.push(fn);
  if (registered) return;
  registered = true;
  after(async () => {
    while (stack.length > 0) {
      const next = stack.pop()!;
      await next();
    }
  });
}
