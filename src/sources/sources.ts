/**
 * Sourced syncs as the API and the worker see them: a source is checked at the door and its credential
 * tried before the sync is saved (a refusal is a 4xx with the provider's reason); the credential is sealed
 * in the vault; the sync's `source` view derives its state from the stored facts (paused, failing,
 * backfilling, live); the worker builds each runner's source from the row.
 */
import type pg from "pg";
import type { Queryable } from "../db/queryable.js";
import { notFound, SequinError, validationError } from "../errors.js";
import type { Health } from "../health-checks.js";
import { recordCounts } from "../stream/index.js";
import type { Vault } from "../vault/index.js";
import { selectLiveOwners } from "../work/index.js";
import { Allotments } from "./allotment.js";
import { ProviderError, ProviderHttp, type RequestEvent } from "./provider-http.js";
import type { Source, SourceKind } from "./source.js";
import { type SyncCheckName, syncHealth } from "./source-health.js";
import { type SourceContext, type SourceFactory, sourceFactories } from "./source-kinds.js";
import {
  addSourceCollections,
  insertSource,
  type SourceRow,
  selectSourceCollections,
  selectSourceStatistics,
  selectSources,
  setSourceDesired,
  startRebackfill,
  updateSourceRow,
} from "./source-queries.js";
import type { SourceInput, SourcePatch, SourceView } from "./source-schemas.js";

/** A sourced sync's health and counters, as health rounds, alerts and metrics read them. */
export interface SyncStatistics {
  id: string;
  name: string;
  provider: string;
  state: SourceView["state"];
  /** The status it last alerted about. */
  alerted: "healthy" | "unhealthy";
  requests: number;
  throttled: number;
  /** Objects read by backfills. */
  fetched: number;
  lastPolledAt: string | null;
  health: Health<SyncCheckName>;
}

/** A source checked and its credential tried: what saving it needs. */
export interface PreparedSource {
  provider: string;
  collections: string[];
  credentialsEncrypted: Buffer;
  settings: Record<string, unknown>;
  baseUrl: string;
  maxRequestsPerSecond: number;
  pollIntervalSeconds: number;
}

export interface SourcesDeps {
  pool: pg.Pool;
  vault: Vault;
  /** How long trying a credential may take. */
  verifyTimeoutMs?: number;
}

export class Sources {
  /** One allotment per credential in this process: syncs sharing a key share its limit. */
  readonly allotments = new Allotments();

  constructor(private readonly deps: SourcesDeps) {}

  /**
   * Checks a new sync's source (provider, collections, credential fields, allotment within the provider's
   * limit) and tries the credential. Throws a validation error naming the field, `provider_refused` with the
   * provider's reason, or `provider_unavailable`.
   */
  async prepare(
    provider: string,
    collections: readonly string[] | undefined,
    input: SourceInput,
  ): Promise<PreparedSource> {
    const factory = sourceFactories.get(provider);
    if (!factory)
      throw validationError({
        provider: [
          `no built-in source pulls ${JSON.stringify(provider)} yet (available: ${[...sourceFactories.keys()].join(", ")}); leave out "source" to push records yourself`,
        ],
      });
    const kind = factory.kind;
    const settings = input.settings ?? {};
    const problems: Record<string, string[]> = {
      ...sourceProblems(kind, input.credentials, settings),
      ...collectionProblems(kind, collections ?? []),
    };
    const baseUrl = baseUrlOf(kind, input.credentials, input.base_url, kind.defaultBaseUrl, problems);
    const chosen = collectionsOf(kind, settings, collections, kind.collections, problems);
    const rate = input.max_requests_per_second ?? kind.defaultRequestsPerSecond;
    if (rate > kind.maxRequestsPerSecond)
      problems["source.max_requests_per_second"] = [
        `must be at most ${kind.maxRequestsPerSecond}: ${provider}'s own limit`,
      ];
    if (Object.keys(problems).length > 0) throw validationError(problems);
    const prepared: PreparedSource = {
      provider,
      collections: chosen,
      credentialsEncrypted: this.deps.vault.encrypt(JSON.stringify(input.credentials)),
      settings,
      baseUrl,
      maxRequestsPerSecond: rate,
      pollIntervalSeconds: input.poll_interval_seconds ?? kind.defaultPollIntervalSeconds,
    };
    await this.tryCredential(factory, prepared, input.credentials);
    return prepared;
  }

  /**
   * Changes a sync's source. A new credential or address is tried first (a refusal changes nothing); the
   * runner restarts with the new settings, its error cleared, from where it stood — or, when the new
   * settings leave records that no longer belong (the kind's `rereadAfter`), reading everything again.
   * `collections`: the sync's new collections when the same change names them.
   */
  async update(syncId: string, patch: SourcePatch, collections?: readonly string[]): Promise<void> {
    const [row] = await selectSources(this.deps.pool, [syncId]);
    if (!row)
      throw validationError({
        source: ["this sync has no source: its records are pushed; create a new sync with a source to pull"],
      });
    const factory = sourceFactories.get(row.provider)!;
    const kind = factory.kind;
    const credentials =
      patch.credentials ??
      (JSON.parse(this.deps.vault.decrypt(row.credentials_encrypted)) as Record<string, unknown>);
    const settings = patch.settings ?? row.settings;
    const problems = sourceProblems(kind, credentials, settings);
    const baseUrl = baseUrlOf(kind, credentials, patch.base_url, row.base_url, problems);
    collectionsOf(kind, settings, collections ?? row.collections, row.collections, problems);
    const rate = patch.max_requests_per_second ?? row.max_requests_per_second;
    if (rate > kind.maxRequestsPerSecond)
      problems["source.max_requests_per_second"] = [
        `must be at most ${kind.maxRequestsPerSecond}: ${row.provider}'s own limit`,
      ];
    if (Object.keys(problems).length > 0) throw validationError(problems);
    const prepared: PreparedSource = {
      provider: row.provider,
      collections: row.collections,
      credentialsEncrypted: this.deps.vault.encrypt(JSON.stringify(credentials)),
      settings,
      baseUrl,
      maxRequestsPerSecond: rate,
      pollIntervalSeconds: patch.poll_interval_seconds ?? row.poll_interval_seconds,
    };
    // a base URL taken from a new credential is a new address too
    if (patch.credentials !== undefined || patch.base_url !== undefined || baseUrl !== row.base_url)
      await this.tryCredential(factory, prepared, credentials);
    const reread =
      patch.settings === undefined ? undefined : kind.rereadAfter?.(row.settings, patch.settings);
    await updateSourceRow(this.deps.pool, { syncId, ...prepared, reread: reread ?? null });
  }

  /**
   * A sync's collections are about to change: for a sourced sync each must be one its provider offers, and
   * new ones are backfilled (the runner restarts with them). Nothing to do for a sync whose records are
   * pushed.
   */
  async collectionsChanging(syncId: string, collections: readonly string[]): Promise<void> {
    const [row] = await selectSources(this.deps.pool, [syncId]);
    if (!row) return;
    const kind = sourceFactories.get(row.provider)!.kind;
    const problems = collectionProblems(kind, collections);
    collectionsOf(kind, row.settings, collections, row.collections, problems);
    if (Object.keys(problems).length > 0) throw validationError(problems);
    await addSourceCollections(this.deps.pool, { syncId, collections });
  }

  /** Saves a prepared source for a sync just created (in the caller's transaction). */
  async insert(db: Queryable, syncId: string, prepared: PreparedSource): Promise<void> {
    await insertSource(db, { syncId, ...prepared });
  }

  /** The source of each sourced sync among `syncIds`. */
  async views(syncIds: readonly string[]): Promise<Map<string, SourceView>> {
    const rows = await selectSources(this.deps.pool, syncIds);
    if (rows.length === 0) return new Map();
    const ids = rows.map((r) => r.sync_id);
    const [collections, owners] = await Promise.all([
      selectSourceCollections(this.deps.pool, ids),
      selectLiveOwners(this.deps.pool, "source", ids),
    ]);
    const views = new Map<string, SourceView>();
    for (const row of rows) {
      const counts = await recordCounts(this.deps.pool, row.sync_id);
      const own = collections.get(row.sync_id) ?? [];
      const backfilling = own.some((c) => !c.backfill_done);
      const polled = own.map((c) => c.last_polled_at).filter((t): t is string => t !== null);
      views.set(row.sync_id, {
        provider: row.provider,
        base_url: row.base_url,
        max_requests_per_second: row.max_requests_per_second,
        poll_interval_seconds: row.poll_interval_seconds,
        settings: row.settings,
        state:
          row.desired === "paused"
            ? "paused"
            : row.last_error
              ? "failing"
              : backfilling
                ? "backfilling"
                : "live",
        collections: own.map((c) => ({
          collection_id: c.collection_id,
          state: c.backfill_done ? "live" : "backfilling",
          records: counts.get(c.collection_id)?.live ?? 0,
          backfill: { fetched: Number(c.fetched), done: c.backfill_done },
          last_polled_at: c.last_polled_at,
        })),
        rebackfill: row.rebackfill,
        last_error: row.last_error,
        failing_since: row.failing_since,
        requests: Number(row.requests),
        throttled: Number(row.throttled),
        worker_id: owners.get(row.sync_id) ?? null,
        health: syncHealth({
          paused: row.desired === "paused",
          lastError: row.last_error,
          failingSince: row.failing_since,
          lastPolledAt: polled.length > 0 ? polled.sort()[0]! : null,
          createdAt: row.inserted_at,
          pollIntervalSeconds: row.poll_interval_seconds,
          rebackfill: row.rebackfill,
        }),
      });
    }
    return views;
  }

  /** Every sourced sync's health and counters, from one statement (health rounds, alerts, metrics). */
  async statistics(now: Date = new Date()): Promise<SyncStatistics[]> {
    return (await selectSourceStatistics(this.deps.pool)).map((row) => ({
      id: row.sync_id,
      name: row.sync_name,
      provider: row.provider,
      state:
        row.desired === "paused"
          ? "paused"
          : row.last_error
            ? "failing"
            : row.backfilling
              ? "backfilling"
              : "live",
      alerted: row.alerted_status,
      requests: Number(row.requests),
      throttled: Number(row.throttled),
      fetched: Number(row.fetched),
      lastPolledAt: row.last_polled_at,
      health: syncHealth(
        {
          paused: row.desired === "paused",
          lastError: row.last_error,
          failingSince: row.failing_since,
          lastPolledAt: row.last_polled_at,
          createdAt: row.inserted_at,
          pollIntervalSeconds: row.poll_interval_seconds,
          rebackfill: row.rebackfill,
        },
        now,
      ),
    }));
  }

  async setDesired(syncId: string, desired: "active" | "paused"): Promise<void> {
    if (!(await setSourceDesired(this.deps.pool, syncId, desired)))
      throw notFound("sync with a source", syncId);
  }

  /** Reads everything again, deleting what no longer exists upstream at the end. */
  async rebackfill(syncId: string): Promise<void> {
    const [row] = await selectSources(this.deps.pool, [syncId]);
    if (!row) throw notFound("sync with a source", syncId);
    // the runner's lease fence is not ours: take it as the lease row holds it now
    const { rows } = await this.deps.pool.query<{ fence: string }>(
      "select fence::text from sequin_leases where kind = 'source' and resource_id = $1",
      [syncId],
    );
    const fence = rows[0]?.fence;
    if (
      fence === undefined ||
      !(await startRebackfill(this.deps.pool, { syncId, fence, reason: "asked for", restart: true }))
    )
      throw new SequinError("conflict", "the sync's source is not running: resume it, then ask again");
  }

  /** The runtime source of a stored row, its requests reported to `onRequest`. */
  build(row: SourceRow, onRequest: (event: RequestEvent) => void): Source {
    const factory = sourceFactories.get(row.provider);
    if (!factory) throw new Error(`no built-in source pulls ${row.provider}`);
    const credentials = JSON.parse(this.deps.vault.decrypt(row.credentials_encrypted)) as Record<
      string,
      unknown
    >;
    const context: SourceContext = { credentials, settings: row.settings, baseUrl: row.base_url };
    const session = factory.session(context);
    return factory.build(
      new ProviderHttp({
        provider: factory.rules,
        baseUrl: row.base_url,
        headers: (signal) => session.headers(signal),
        ...(session.reauthorize ? { reauthorize: (signal) => session.reauthorize!(signal) } : {}),
        allotment: this.allotments.for(factory.kind.fingerprint(credentials), row.max_requests_per_second),
        onRequest,
      }),
      context,
    );
  }

  private async tryCredential(
    factory: SourceFactory,
    prepared: PreparedSource,
    credentials: Record<string, unknown>,
  ): Promise<void> {
    const context: SourceContext = { credentials, settings: prepared.settings, baseUrl: prepared.baseUrl };
    const session = factory.session(context);
    const source = factory.build(
      new ProviderHttp({
        provider: factory.rules,
        baseUrl: prepared.baseUrl,
        headers: (signal) => session.headers(signal),
        ...(session.reauthorize ? { reauthorize: (signal) => session.reauthorize!(signal) } : {}),
        allotment: this.allotments.for(factory.kind.fingerprint(credentials), prepared.maxRequestsPerSecond),
        timeoutMs: this.deps.verifyTimeoutMs ?? 10_000,
        maxAttempts: 2,
        maxThrottledWaits: 2,
        backoff: { initialMs: 250, maxMs: 1000 },
      }),
      context,
    );
    try {
      await source.verify();
    } catch (error) {
      if (!(error instanceof ProviderError)) throw error;
      if (error.kind === "refused")
        throw new SequinError(
          "provider_refused",
          `${prepared.provider} refused the credential: ${error.message}`,
          {
            validationErrors: { "source.credentials": [`${prepared.provider} refused it: ${error.message}`] },
          },
        );
      throw new SequinError(
        "provider_unavailable",
        `${prepared.provider} could not be asked whether the credential is good: ${error.message}`,
      );
    }
  }
}

/** The credential's and settings' problems, by the field's path in a sync's body. */
function sourceProblems(
  kind: SourceKind,
  credentials: Record<string, unknown>,
  settings: Record<string, unknown>,
): Record<string, string[]> {
  const problems: Record<string, string[]> = {};
  for (const [field, message] of Object.entries(kind.checkCredentials(credentials)))
    problems[`source.credentials.${field}`] = [message];
  for (const [field, message] of Object.entries(kind.checkSettings?.(settings) ?? {}))
    problems[`source.settings.${field}`] = [message];
  return problems;
}

const withoutTrailingSlash = (url: string) => url.replace(/\/+$/, "");

/**
 * The sync's base URL: the one given, else the one its credential names (the kind's `baseUrlFrom`), else
 * `fallback`. Given both, they must be the same: the credential goes only to the base URL, and a credential
 * naming one address while requests go to another is a mistake to point out, not to guess about.
 */
function baseUrlOf(
  kind: SourceKind,
  credentials: Record<string, unknown>,
  given: string | undefined,
  fallback: string,
  problems: Record<string, string[]>,
): string {
  const named = kind.baseUrlFrom?.(credentials);
  if (given !== undefined && named && withoutTrailingSlash(given) !== withoutTrailingSlash(named.url))
    problems["source.base_url"] = [
      `must be the same as source.credentials.${named.field} (${named.url}), or leave one of them out`,
    ];
  return given ?? named?.url ?? fallback;
}

/**
 * The sync's collections: the ones given, else the ones its settings name (the kind's `collectionsFrom`),
 * else `fallback`. Given both, they must name the same set: two lists that disagree leave no way to know
 * which one was meant.
 */
function collectionsOf(
  kind: SourceKind,
  settings: Record<string, unknown>,
  given: readonly string[] | undefined,
  fallback: readonly string[],
  problems: Record<string, string[]>,
): string[] {
  const named = kind.collectionsFrom?.(settings);
  const path = named && `source.settings.${named.field}`;
  // a setting already refused item by item says enough
  const refused = path !== undefined && Object.keys(problems).some((p) => p.startsWith(path));
  if (given !== undefined && named && !refused) {
    const want = new Set(named.collections);
    const have = new Set(given);
    if (want.size !== have.size || [...want].some((c) => !have.has(c)))
      problems[path!] = [
        `must name the same collections as "collections" (${[...have].join(", ")}), or leave one of them out`,
      ];
  }
  return [...new Set(given ?? named?.collections ?? fallback)];
}

/** Collections the provider does not offer, each named with what it does offer. */
function collectionProblems(kind: SourceKind, collections: readonly string[]): Record<string, string[]> {
  const problems: Record<string, string[]> = {};
  collections.forEach((collection, i) => {
    if (!kind.collections.includes(collection) && kind.offersCollection?.(collection) !== true)
      problems[`collections[${i}]`] = [
        `${kind.provider} has no collection ${JSON.stringify(collection)} (available: ${kind.collections.join(", ")})`,
      ];
  });
  return problems;
}
