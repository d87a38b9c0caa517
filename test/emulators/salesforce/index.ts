/**
 * A stateful Salesforce org over real HTTP on loopback, for tests of code that pulls from Salesforce's REST
 * API. Tests change records through the methods here (at chosen stamps, committing late, deleted into the
 * recycle bin, purged, undeleted) and point a client at `instanceUrl` with `accessToken` (or trade
 * `refreshToken` at the token endpoint, on the same address). salesforce-emulator.test.ts checks its shapes with
 * jsforce, Salesforce's own client.
 */
import type { AddressInfo } from "node:net";
import { onCleanup } from "../../helpers/cleanup.js";
import { EmulatorClock } from "../stripe/clock.js";
import { Faults } from "./faults.js";
import { type Fields, type MutationOptions, OrgData } from "./org-data.js";
import { DailyQuota } from "./quota.js";
import type { LoggedRequest } from "./request-log.js";
import type { FieldSpec } from "./schema.js";
import { createSalesforceServer, type Locator } from "./server.js";
import { Tokens } from "./tokens.js";

export { DAY_MS, EmulatorClock } from "../stripe/clock.js";
export type { FaultKind } from "./faults.js";
export type { Fields, MutationOptions } from "./org-data.js";
export { busiestWindow, type LoggedRequest } from "./request-log.js";
export { SUPPORTED_VERSIONS } from "./server.js";

export interface SalesforceEmulatorOptions {
  clock?: EmulatorClock;
  /** The org's daily API requests (Salesforce: 100,000 plus per licence). */
  dailyLimit?: number;
  /** Records per query batch at most. */
  batchSize?: number;
  /** The most ids `/deleted` answers before EXCEEDED_ID_LIMIT (Salesforce: 600,000). */
  deletedIdLimit?: number;
}

export interface SalesforceEmulator {
  /** Where the API lives (and, here, the token endpoint too). */
  instanceUrl: string;
  /** A working session. */
  accessToken: string;
  clientId: string;
  clientSecret: string;
  clock: EmulatorClock;
  faults: Faults;
  quota: DailyQuota;
  requests: LoggedRequest[];
  /** Access tokens the token endpoint issued, in order. */
  issuedTokens: readonly string[];
  session(): string;
  revokeSession(token: string): void;
  refreshToken(): string;
  revokeRefreshToken(token: string): void;
  /** What the token endpoint names as `instance_url` (another address: a client must notice). */
  setInstanceUrl(url: string): void;
  setBatchSize(size: number): void;
  /** Every open query locator dies, as after two days. */
  expireLocators(): void;
  addCustomObject(name: string, fields: FieldSpec[]): void;
  create(object: string, fields?: Fields, options?: MutationOptions): string;
  update(object: string, id: string, fields: Fields, options?: MutationOptions): void;
  /** Deletes into the recycle bin. */
  remove(object: string, id: string, options?: MutationOptions): void;
  /** Empties a record from the recycle bin, or hard-deletes a live one. */
  purge(object: string, id: string, options?: MutationOptions): void;
  undelete(object: string, id: string, options?: MutationOptions): void;
  trimDeleteLog(object: string, beforeMs: number): void;
  /**
   * Every live record of an object once all changes have committed, as a query of every field but binary
   * ones returns it, by Id.
   */
  all(object: string): Fields[];
  /** The fields a puller selects: every one of describe's but binary ones. */
  queryFields(object: string): string[];
  onRequest(listener: (request: LoggedRequest) => void): () => void;
  close(): Promise<void>;
}

export const API_VERSION = "62.0";

export async function startSalesforceEmulator(
  options: SalesforceEmulatorOptions = {},
): Promise<SalesforceEmulator> {
  const clock = options.clock ?? new EmulatorClock();
  const org = new OrgData(clock);
  const tokens = new Tokens();
  const quota = new DailyQuota(clock, options.dailyLimit ?? 100_000);
  const faults = new Faults();
  const requests: LoggedRequest[] = [];
  const listeners = new Set<(request: LoggedRequest) => void>();
  const locators = new Map<string, Locator>();
  let batchSize = options.batchSize ?? 2000;
  let instanceUrl = "";
  const server = createSalesforceServer({
    org,
    tokens,
    quota,
    faults,
    log: requests,
    clock,
    batchSize: () => batchSize,
    instanceUrl: () => instanceUrl,
    listeners,
    locators,
    deletedIdLimit: options.deletedIdLimit ?? 600_000,
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const own = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  instanceUrl = own;
  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closed ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    return closed;
  };
  onCleanup(close);
  const selectable = (object: string) => org.spec(object).fields.filter((f) => f.type !== "base64");

  return {
    instanceUrl: own,
    accessToken: tokens.session(),
    clientId: tokens.clientId,
    clientSecret: tokens.clientSecret,
    clock,
    faults,
    quota,
    requests,
    issuedTokens: tokens.issued,
    session: () => tokens.session(),
    revokeSession: (token) => tokens.revoke(token),
    refreshToken: () => tokens.refreshToken(),
    revokeRefreshToken: (token) => tokens.revokeRefreshToken(token),
    setInstanceUrl: (url) => {
      instanceUrl = url;
    },
    setBatchSize: (size) => {
      batchSize = size;
    },
    expireLocators: () => locators.clear(),
    addCustomObject: (name, fields) => org.addCustomObject(name, fields),
    create: (object, fields = {}, mutation = {}) => org.create(object, fields, mutation).id,
    update: (object, id, fields, mutation = {}) => org.update(object, id, fields, mutation),
    remove: (object, id, mutation = {}) => org.remove(object, id, mutation),
    purge: (object, id, mutation = {}) => org.purge(object, id, mutation),
    undelete: (object, id, mutation = {}) => org.undelete(object, id, mutation),
    trimDeleteLog: (object, beforeMs) => org.trimDeleteLog(object, beforeMs),
    all(object) {
      const fields = selectable(object);
      const out: Fields[] = [];
      const ids = [...org.rows(object).keys()].sort();
      for (const id of ids) {
        const state = org.final(org.rows(object).get(id)!);
        if (state && !state.isDeleted) out.push(org.render(state, fields, API_VERSION));
      }
      return out;
    },
    queryFields: (object) => selectable(object).map((f) => f.name),
    onRequest(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close,
  };
}
