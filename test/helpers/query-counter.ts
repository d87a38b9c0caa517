/**
 * A store pool that counts the statements sent through it: those sent on the pool and those on clients
 * checked out of it (a transaction's begin, statements and commit each count).
 */
import type pg from "pg";

export interface CountingPool {
  pool: pg.Pool;
  /** Statements sent so far. */
  readonly count: number;
  /** The statements' text, in order (for messages). */
  readonly texts: string[];
  reset(): void;
}

export function countingPool(pool: pg.Pool): CountingPool {
  const texts: string[] = [];
  const note = (args: unknown[]) => {
    const first = args[0];
    texts.push(typeof first === "string" ? first : String((first as { text?: string })?.text ?? first));
  };
  const proxy = new Proxy(pool, {
    get(target, prop) {
      if (prop === "query") {
        return (...args: unknown[]) => {
          note(args);
          return (target.query as (...a: unknown[]) => unknown)(...args);
        };
      }
      if (prop === "connect") {
        return async () => {
          const client = await target.connect();
          return new Proxy(client, {
            get(c, p) {
              if (p === "query") {
                return (...args: unknown[]) => {
                  note(args);
                  return (c.query as (...a: unknown[]) => unknown)(...args);
                };
              }
              const value = Reflect.get(c, p, c);
              return typeof value === "function" ? value.bind(c) : value;
            },
          });
        };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return {
    pool: proxy,
    get count() {
      return texts.length;
    },
    texts,
    reset() {
      texts.length = 0;
    },
  };
}
