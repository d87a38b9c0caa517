/**
 * A stateful Stripe API emulator over real HTTP on loopback, for tests of code that pulls from Stripe. Tests
 * change data through the methods here (each change produces the events Stripe would send) and point the
 * official SDK or any HTTP client at `host`/`port`. Stripe's official mock is stateless, so it cannot show a
 * delete, an event log or a cursor that expired; this one can. docs/testing-emulators.md lists what it covers.
 */
import type { AddressInfo } from "node:net";
import { onCleanup } from "../../helpers/cleanup.js";
import { AccountData, type MutationOptions, type Row } from "./account-data.js";
import { EmulatorClock } from "./clock.js";
import type { CollectionName, JsonObject } from "./collections.js";
import { Faults } from "./faults.js";
import { stripeId } from "./ids.js";
import { KeyRing } from "./keys.js";
import { listPage, parseQuery } from "./listing.js";
import { RateLimiter, STRIPE_TEST_MODE_RATE } from "./rate-limiter.js";
import type { LoggedRequest } from "./request-log.js";
import { createStripeServer } from "./server.js";

export { DAY_MS, EmulatorClock } from "./clock.js";
export type { CollectionName, JsonObject } from "./collections.js";
export { COLLECTIONS } from "./collections.js";
export type { FaultKind } from "./faults.js";
export { busiestWindow, type LoggedRequest } from "./request-log.js";

/** The API version the emulator reports when a request names none (the one stripe-node 23.1 pins). */
export const DEFAULT_API_VERSION = "2026-10-28.endive";

export interface StripeEmulatorOptions {
  /** Requests per second per key; null for none. Stripe's test-mode limit by default. */
  rateLimitPerSecond?: number | null;
  clock?: EmulatorClock;
  apiVersion?: string;
}

/** Where a mutation acts: the platform account unless a connected account is named. */
export interface AccountOption {
  account?: string;
}

export interface StripeEmulator {
  host: string;
  port: number;
  protocol: "http";
  /** `{host, port, protocol}` for `new Stripe(key, …)`. */
  sdkOptions: { host: string; port: number; protocol: "http" };
  platformAccount: string;
  /** A working secret key of the platform account. */
  apiKey: string;
  clock: EmulatorClock;
  faults: Faults;
  /** Every request, in arrival order. */
  requests: LoggedRequest[];
  createKey(): string;
  revokeKey(key: string): void;
  /** Sets the limit of one key, or of every key without its own. */
  setRateLimit(perSecond: number | null, key?: string): void;
  /** A new connected account the platform's keys may act on through `Stripe-Account`. */
  connectAccount(): string;
  create(
    collection: CollectionName,
    fields?: JsonObject,
    options?: MutationOptions & AccountOption,
  ): JsonObject;
  update(
    collection: CollectionName,
    id: string,
    fields: JsonObject,
    options?: MutationOptions & AccountOption,
  ): JsonObject;
  /** Deletes, or for subscriptions cancels, as Stripe's DELETE does. */
  remove(collection: CollectionName, id: string, options?: MutationOptions & AccountOption): JsonObject;
  /** Sends an event of any type about an object, without changing it. */
  emitEvent(type: string, object: JsonObject, options?: { at?: number } & AccountOption): JsonObject;
  /**
   * Runs `listener` for every admitted request just before it is answered (after faults), so a test can change
   * data between two pages a sync fetches. Returns a function that removes the listener.
   */
  onRequest(listener: (request: LoggedRequest) => void): () => void;
  /** Every live object of a collection, newest first, as a list would return them. */
  all(collection: CollectionName, options?: AccountOption): JsonObject[];
  /** Every event still kept (30 days), newest first. */
  events(options?: AccountOption): JsonObject[];
  close(): Promise<void>;
}

export async function startStripeEmulator(options: StripeEmulatorOptions = {}): Promise<StripeEmulator> {
  const clock = options.clock ?? new EmulatorClock();
  const apiVersion = options.apiVersion ?? DEFAULT_API_VERSION;
  const accounts = new Map<string, AccountData>();
  const keys = new KeyRing();
  const limiter = new RateLimiter(
    options.rateLimitPerSecond === undefined ? STRIPE_TEST_MODE_RATE : options.rateLimitPerSecond,
  );
  const faults = new Faults();
  const requests: LoggedRequest[] = [];
  const listeners = new Set<(request: LoggedRequest) => void>();

  const platformAccount = stripeId("acct_", 16);
  accounts.set(platformAccount, new AccountData(platformAccount, false, clock, apiVersion));
  const apiKey = keys.create(platformAccount);

  const server = createStripeServer({
    accounts,
    keys,
    limiter,
    faults,
    log: requests,
    clock,
    apiVersion,
    listeners,
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closed ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    return closed;
  };
  onCleanup(close);

  const data = (account: string | undefined): AccountData => {
    const found = accounts.get(account ?? platformAccount);
    if (!found) throw new Error(`unknown account ${account}`);
    return found;
  };
  const everything = (source: Iterable<Row>, url: string): JsonObject[] => {
    const rows = [...source];
    const out: JsonObject[] = [];
    let cursor: string | undefined;
    // Pages through the same code the HTTP lists use, so the order is the one clients see.
    for (;;) {
      const query = parseQuery(cursor ? `limit=100&starting_after=${cursor}` : "limit=100");
      const page = listPage({ rows, matches: () => true, query, url, objectName: "object" });
      const items = page.data as JsonObject[];
      out.push(...items);
      if (!page.has_more) return out;
      cursor = items[items.length - 1]!.id as string;
    }
  };

  return {
    host: "127.0.0.1",
    port,
    protocol: "http",
    sdkOptions: { host: "127.0.0.1", port, protocol: "http" },
    platformAccount,
    apiKey,
    clock,
    faults,
    requests,
    createKey: () => keys.create(platformAccount),
    revokeKey: (key) => keys.revoke(key),
    setRateLimit: (perSecond, key) => limiter.setLimit(perSecond, key),
    connectAccount() {
      const id = stripeId("acct_", 16);
      accounts.set(id, new AccountData(id, true, clock, apiVersion));
      keys.connect(platformAccount, id);
      return id;
    },
    create: (collection, fields = {}, options = {}) =>
      data(options.account).create(collection, fields, options),
    update: (collection, id, fields, options = {}) =>
      data(options.account).update(collection, id, fields, options),
    remove: (collection, id, options = {}) => data(options.account).remove(collection, id, options),
    onRequest(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    emitEvent: (type, object, options = {}) =>
      data(options.account).emit(type, object, undefined, options.at),
    all: (collection, options = {}) =>
      everything(
        [...data(options.account).collection(collection).values()].filter((row) => !row.deleted),
        `/v1/${collection}`,
      ),
    events: (options = {}) => everything(data(options.account).eventRows().values(), "/v1/events"),
    close,
  };
}
