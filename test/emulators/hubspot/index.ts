/**
 * A stateful HubSpot CRM v3 emulator over real HTTP on loopback, for tests of code that pulls from HubSpot.
 * Tests change data through the methods here (at chosen times: ties of any size, records changed "in the
 * past") and point any HTTP client, or HubSpot's own, at `baseUrl`. It reproduces what breaks syncs: the
 * search index that shows changes late, the 10,000-result cap of a search, archiving that leaves the
 * last-modified property alone, the 90-day recycle bin, merges that make ids disappear, the three limits
 * with their headers and 429 bodies, OAuth tokens that expire. docs/sources/hubspot.md lists what it covers.
 */
import type { AddressInfo } from "node:net";
import { onCleanup } from "../../helpers/cleanup.js";
import { EmulatorClock } from "../stripe/index.js";
import { Faults } from "./faults.js";
import { type LimitSettings, Limits } from "./limits.js";
import { type MutationOptions, type Owner, PortalData, type Properties } from "./portal-data.js";
import type { ObjectType } from "./properties.js";
import type { HubSpotRequest } from "./request-log.js";
import { createHubSpotServer, renderObject, renderOwner } from "./server.js";
import { type OAuthApp, Tokens } from "./tokens.js";

export { DAY_MS, EmulatorClock } from "../stripe/index.js";
export type { FaultKind } from "./faults.js";
export type { MutationOptions, Properties } from "./portal-data.js";
export { PURGE_AFTER_MS } from "./portal-data.js";
export { OBJECT_TYPES, type ObjectType } from "./properties.js";
export { busiestWindow, type HubSpotRequest } from "./request-log.js";
export { SEARCH_RESULTS_CAP } from "./search.js";
export { MAX_URL_LENGTH } from "./server.js";
export type { OAuthApp } from "./tokens.js";

export interface HubSpotEmulator {
  baseUrl: string;
  clock: EmulatorClock;
  faults: Faults;
  /** Every request, in arrival order. */
  requests: HubSpotRequest[];
  /** A private app's access token. */
  createPrivateApp(): string;
  /** An OAuth app's install: client id, secret and refresh token. */
  createOAuthApp(): OAuthApp;
  /** Revokes a private app's token, or an OAuth install with every access token it got. */
  revoke(tokenOrRefreshToken: string): void;
  /** How many access tokens an OAuth install was given. */
  refreshes(refreshToken: string): number;
  /** The lifetime of access tokens given from now on (seconds; HubSpot's is 1800). */
  setTokenLifetime(seconds: number): void;
  /** The limits (null lifts one), of every install or of one; unset fields keep their value. */
  setLimits(limits: Partial<LimitSettings>, install?: string): void;
  /** Midnight for the daily quota. */
  resetDaily(): void;
  /** How long a change takes to show in search (ms). */
  setIndexLag(ms: number): void;
  /** Properties the account adds to a type (its own fields). */
  defineProperties(type: ObjectType, names: string[]): void;
  create(type: ObjectType, properties?: Properties, options?: MutationOptions): Record<string, unknown>;
  update(
    type: ObjectType,
    id: string,
    properties: Properties,
    options?: MutationOptions,
  ): Record<string, unknown>;
  /** Many objects changed at one timestamp (a bulk update or import). */
  updateMany(type: ObjectType, ids: string[], properties: Properties, options?: MutationOptions): void;
  archive(type: ObjectType, id: string, options?: MutationOptions): void;
  restore(type: ObjectType, id: string, options?: MutationOptions): Record<string, unknown>;
  merge(
    type: ObjectType,
    primary: string,
    merged: string,
    options?: MutationOptions,
  ): Record<string, unknown>;
  createOwner(fields?: Partial<Pick<Owner, "email" | "firstName" | "lastName">>): Record<string, unknown>;
  updateOwner(
    id: string,
    fields: Partial<Pick<Owner, "email" | "firstName" | "lastName">>,
  ): Record<string, unknown>;
  archiveOwner(id: string): void;
  /** Every live object of a type as a list answers it with every property asked for, by id. */
  all(type: ObjectType): Record<string, unknown>[];
  /** Every live owner as the owners list answers it. */
  owners(): Record<string, unknown>[];
  /** Runs `listener` for every admitted request just before it is answered (after faults). */
  onRequest(listener: (request: HubSpotRequest) => void): () => void;
  close(): Promise<void>;
}

export async function startHubSpotEmulator(
  options: { clock?: EmulatorClock } = {},
): Promise<HubSpotEmulator> {
  const clock = options.clock ?? new EmulatorClock();
  const data = new PortalData(clock);
  const tokens = new Tokens(clock);
  const limits = new Limits(clock);
  const faults = new Faults();
  const requests: HubSpotRequest[] = [];
  const listeners = new Set<(request: HubSpotRequest) => void>();
  const server = createHubSpotServer({ data, tokens, limits, faults, clock, log: requests, listeners });
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
  const render = (type: ObjectType, object: Parameters<typeof renderObject>[1]) => {
    const all = data.propertyNames(type);
    return renderObject(type, object, all, all) as Record<string, unknown>;
  };

  return {
    baseUrl: `http://127.0.0.1:${port}`,
    clock,
    faults,
    requests,
    createPrivateApp: () => tokens.createPrivateApp(),
    createOAuthApp: () => tokens.createOAuthApp(),
    revoke: (token) => tokens.revoke(token),
    refreshes: (refreshToken) => tokens.refreshes(refreshToken),
    setTokenLifetime(seconds) {
      tokens.lifetimeSeconds = seconds;
    },
    setLimits(settings, install) {
      if (install === undefined) limits.settings = { ...limits.settings, ...settings };
      else limits.perInstall.set(install, { ...limits.perInstall.get(install), ...settings });
    },
    resetDaily: () => limits.resetDaily(),
    setIndexLag(ms) {
      data.indexLagMs = ms;
    },
    defineProperties: (type, names) => data.defineProperties(type, names),
    create: (type, properties, opts) => render(type, data.create(type, properties, opts)),
    update: (type, id, properties, opts) => render(type, data.update(type, id, properties, opts)),
    updateMany(type, ids, properties, opts = {}) {
      const at = opts.at ?? clock.nowMs();
      for (const id of ids) data.update(type, id, properties, { at });
    },
    archive: (type, id, opts) => data.archive(type, id, opts),
    restore: (type, id, opts) => render(type, data.restore(type, id, opts)),
    merge: (type, primary, merged, opts) => render(type, data.merge(type, primary, merged, opts)),
    createOwner: (fields) => renderOwner(data.createOwner(fields)),
    updateOwner: (id, fields) => renderOwner(data.updateOwner(id, fields)),
    archiveOwner: (id) => data.archiveOwner(id),
    all: (type) => data.list(type, false).map((o) => render(type, o)),
    owners: () =>
      [...data.owners.values()]
        .filter((o) => !o.archived)
        .sort((a, b) => Number(a.id) - Number(b.id))
        .map(renderOwner),
    onRequest(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close,
  };
}
