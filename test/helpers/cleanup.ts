/**
 * Cleanups for a test file, run after all its tests in reverse order of registration (last set up, first
 * torn down), so a worker stops before the pools it uses end and databases are dropped last. The hook is
 * registered when this module is first imported, at the file's top level: an `after` registered inside a
 * test would only run after that one test.
 */
import { after } from "node:test";

const stack: (() => Promise<unknown> | unknown)[] = [];

after(async () => {
  while (stack.length > 0) {
    const next = stack.pop()!;
    await next();
  }
});

export function onCleanup(fn: () => Promise<unknown> | unknown): void {
  stack.push(fn);
}
