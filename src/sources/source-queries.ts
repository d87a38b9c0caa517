/**
 * SQL for sourced syncs. One function per statement; each takes its client. Every write of a runner is
 * fenced by its lease (kind "source"): a worker that lost the sync writes nothing.
 */
import type { Queryable } from "../db/queryable.js";
import { bumpFenceSql, fenceHolds } from "../work/index.js";

const fenced = fenceHolds("source", "$1", "$2");

export interface SourceRow {
  sync_id: string;
  sync_name: string;
  provider: string;
  collections: string[];
  credentials_encrypted: Buffer;
  settings: Record<string, unknown>;
  base_url: string;
  max_requests_per_second: number;
  poll_interval_seconds: number;
  desired: "active" | "paused";
  change_cursor: unknown;
  rebackfill: string | null;
  last_error: SourceError | null;
  failing_since: string | null;
  requests: string;
  throttled: string;
  inserted_at: string;
}

export interface SourceError {
  message: string;
  at: string;
  kind: string;
  attempts?: number;
}

export interface SourceCollectionRow {
  collection_id: string;
  backfill_token: string | null;
  backfill_done: boolean;
  fetched: string;
  last_polled_at: string | null;
}

const utc = (column: string) =>
  `to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as ${column.replace(/^\w+\./, "")}`;

export async function insertSource(
  db: Queryable,
  s: {
    syncId: string;
    provider: string;
    credentialsEncrypted: Buffer;
    settings: Record<string, unknown>;
    baseUrl: string;
    maxRequestsPerSecond: number;
    pollIntervalSeconds: number;
    collections: readonly string[];
  },
): Promise<void> {
  await db.query(
    `with source as (
       insert into sequin_sources (sync_id, provider, credentials_encrypted, settings, base_url,
         max_requests_per_second, poll_interval_seconds)
       values ($1, $2, $3, $4, $5, $6, $7) returning sync_id)
     insert into sequin_source_collections (sync_id, collection_id)
       select sync_id, c from source, unnest($8::text[]) c`,
    [
      s.syncId,
      s.provider,
      s.credentialsEncrypted,
      s.settings,
      s.baseUrl,
      s.maxRequestsPerSecond,
      s.pollIntervalSeconds,
      s.collections,
    ],
  );
}

export async function selectSources(db: Queryable, syncIds?: readonly string[]): Promise<SourceRow[]> {
  const { rows } = await db.query<SourceRow>(
    `select s.sync_id::text, y.name as sync_name, s.provider, y.collections, s.credentials_encrypted,
       s.settings, s.base_url, s.max_requests_per_second, s.poll_interval_seconds, s.desired, s.change_cursor,
       s.rebackfill, s.last_error, ${utc("s.failing_since")}, s.requests::text, s.throttled::text,
       ${utc("s.inserted_at")}
     from sequin_sources s join sequin_syncs y on y.id = s.sync_id
     where $1::uuid[] is null or s.sync_id = any($1::uuid[])
     order by y.inserted_at, y.id`,
    [syncIds ?? null],
  );
  return rows;
}

export async function selectSourceCollections(
  db: Queryable,
  syncIds: readonly string[],
): Promise<Map<string, SourceCollectionRow[]>> {
  const { rows } = await db.query<SourceCollectionRow & { sync_id: string }>(
    `select sync_id::text, collection_id, backfill_token, backfill_done, fetched::text, ${utc("last_polled_at")}
     from sequin_source_collections where sync_id = any($1::uuid[]) order by collection_id`,
    [syncIds],
  );
  const bySync = new Map<string, SourceCollectionRow[]>();
  for (const { sync_id, ...row } of rows) bySync.set(sync_id, [...(bySync.get(sync_id) ?? []), row]);
  return bySync;
}

/** The sourced syncs that should run. */
export async function selectActiveSourceIds(db: Queryable): Promise<string[]> {
  const { rows } = await db.query<{ sync_id: string }>(
    "select sync_id::text from sequin_sources where desired = 'active' order by sync_id",
  );
  return rows.map((r) => r.sync_id);
}

/** The change cursor taken before a backfill's first page. */
export async function commitChangeMark(
  db: Queryable,
  p: { syncId: string; fence: string; cursor: unknown },
): Promise<boolean> {
  const result = await db.query(
    `update sequin_sources set change_cursor = $3, updated_at = now() where sync_id = $1 and ${fenced}`,
    [p.syncId, p.fence, JSON.stringify(p.cursor)],
  );
  return result.rowCount === 1;
}

/** A backfill page's position, in the transaction that ingested its records. */
export async function commitBackfillPage(
  db: Queryable,
  p: {
    syncId: string;
    fence: string;
    collection: string;
    token: string | null;
    fetched: number;
    done: boolean;
  },
): Promise<boolean> {
  const result = await db.query(
    `update sequin_source_collections set backfill_token = $4, fetched = fetched + $5, backfill_done = $6
     where sync_id = $1 and collection_id = $3 and ${fenced}`,
    [p.syncId, p.fence, p.collection, p.token, p.fetched, p.done],
  );
  return result.rowCount === 1;
}

/** The change cursor after a page of changes, in the transaction that ingested them. */
export async function commitChanges(
  db: Queryable,
  p: { syncId: string; fence: string; cursor: unknown },
): Promise<boolean> {
  const result = await db.query(
    `with source as (
       update sequin_sources set change_cursor = $3, updated_at = now() where sync_id = $1 and ${fenced}
       returning sync_id)
     update sequin_source_collections c set last_polled_at = now() from source where c.sync_id = source.sync_id`,
    [p.syncId, p.fence, JSON.stringify(p.cursor)],
  );
  return result.rowCount !== null && result.rowCount > 0;
}

/**
 * The common table expressions, after a `source` one returning the sync's `sync_id`, that start its reading
 * over: the ids seen by a re-backfill forgotten, every collection's backfill from its first page. `when`
 * guards both (a parameter's test, for a statement that starts over only sometimes).
 */
function positionsStartOverSql(when = "true"): string {
  return `seen as (delete from sequin_source_seen s using source where ${when} and s.sync_id = source.sync_id),
     positions as (
       update sequin_source_collections c set backfill_token = null, backfill_done = false, fetched = 0
       from source where ${when} and c.sync_id = source.sync_id)`;
}

/**
 * Everything is read again (the change feed's horizon passed, or a user asked): positions start over. A
 * user's request (`restart`) also moves the lease's fence on, so the runner restarts from the new positions.
 */
export async function startRebackfill(
  db: Queryable,
  p: { syncId: string; fence: string; reason: string; restart?: boolean },
): Promise<boolean> {
  const result = await db.query(
    `with source as (
       update sequin_sources set rebackfill = $3, change_cursor = null, updated_at = now()
       where sync_id = $1 and ${fenced} returning sync_id),
     ${positionsStartOverSql()},
     restarted as (update sequin_leases set fence = fence + 1
                   where $4 and kind = 'source' and resource_id = (select sync_id from source))
     select count(*)::int as n from source`,
    [p.syncId, p.fence, p.reason, p.restart === true],
  );
  return result.rows[0]?.n === 1;
}

/** Ids read during a re-backfill (a page of it, or changes meanwhile). */
export async function insertSeen(
  db: Queryable,
  p: { syncId: string; ids: readonly { collection: string; id: string }[] },
): Promise<void> {
  if (p.ids.length === 0) return;
  await db.query(
    `insert into sequin_source_seen (sync_id, collection_id, upstream_id)
     select $1, c, u from unnest($2::text[], $3::text[]) as t(c, u) on conflict do nothing`,
    [p.syncId, p.ids.map((i) => i.collection), p.ids.map((i) => i.id)],
  );
}

/** The live records of a collection that a finished re-backfill did not read again: gone upstream. */
export async function selectUnseen(
  db: Queryable,
  p: { syncId: string; collection: string },
): Promise<string[]> {
  const { rows } = await db.query<{ upstream_id: string }>(
    `select r.upstream_id from sequin_records r
     where r.sync_id = $1 and r.collection_id = $2 and not r.deleted
       and not exists (select 1 from sequin_source_seen s
                       where s.sync_id = $1 and s.collection_id = $2 and s.upstream_id = r.upstream_id)`,
    [p.syncId, p.collection],
  );
  return rows.map((r) => r.upstream_id);
}

/** A collection's re-backfill ended; the whole re-backfill ends with its last collection. */
export async function finishCollectionRebackfill(
  db: Queryable,
  p: { syncId: string; fence: string; collection: string },
): Promise<boolean> {
  const result = await db.query(
    `with seen as (delete from sequin_source_seen where sync_id = $1 and collection_id = $3)
     update sequin_sources s set rebackfill = case
         when exists (select 1 from sequin_source_collections c
                      where c.sync_id = s.sync_id and not c.backfill_done and c.collection_id <> $3)
         then rebackfill end,
       updated_at = now()
     where sync_id = $1 and ${fenced}`,
    [p.syncId, p.fence, p.collection],
  );
  return result.rowCount === 1;
}

/**
 * The sync's failure (null: healthy again). `failing_since` is when the incident began: a failure of the
 * same kind counts one more attempt instead.
 */
export async function recordSourceError(
  db: Queryable,
  p: { syncId: string; fence: string; error: SourceError | null },
): Promise<boolean> {
  const result = await db.query(
    `update sequin_sources set
       last_error = case
         when $3::jsonb is null then null
         when last_error->>'kind' = $3::jsonb->>'kind'
           then $3::jsonb || jsonb_build_object('attempts', coalesce((last_error->>'attempts')::int, 1) + 1)
         else $3::jsonb end,
       failing_since = case
         when $3::jsonb is null then null
         when last_error->>'kind' = $3::jsonb->>'kind' then failing_since
         else now() end,
       updated_at = now()
     where sync_id = $1 and ${fenced}`,
    [p.syncId, p.fence, p.error ? JSON.stringify(p.error) : null],
  );
  return result.rowCount === 1;
}

/** Requests made and throttled since the last count (metrics, the sync's page). */
export async function addRequestCounts(
  db: Queryable,
  p: { syncId: string; requests: number; throttled: number },
): Promise<void> {
  if (p.requests === 0 && p.throttled === 0) return;
  await db.query(
    "update sequin_sources set requests = requests + $2, throttled = throttled + $3 where sync_id = $1",
    [p.syncId, p.requests, p.throttled],
  );
}

export async function setSourceDesired(
  db: Queryable,
  syncId: string,
  desired: "active" | "paused",
): Promise<boolean> {
  const result = await db.query(
    "update sequin_sources set desired = $2, updated_at = now() where sync_id = $1",
    [syncId, desired],
  );
  return result.rowCount === 1;
}

/** One row per sourced sync with what its health, metrics and alerts need: one statement for all of them. */
export interface SourceStatisticsRow {
  sync_id: string;
  sync_name: string;
  provider: string;
  desired: "active" | "paused";
  last_error: SourceError | null;
  failing_since: string | null;
  rebackfill: string | null;
  alerted_status: "healthy" | "unhealthy";
  poll_interval_seconds: number;
  inserted_at: string;
  requests: string;
  throttled: string;
  fetched: string;
  backfilling: boolean;
  last_polled_at: string | null;
}

export async function selectSourceStatistics(db: Queryable): Promise<SourceStatisticsRow[]> {
  const { rows } = await db.query<SourceStatisticsRow>(
    `select s.sync_id::text, y.name as sync_name, s.provider, s.desired, s.last_error, ${utc("s.failing_since")},
       s.rebackfill, s.alerted_status, s.poll_interval_seconds, ${utc("s.inserted_at")}, s.requests::text,
       s.throttled::text, coalesce(c.fetched, 0)::text as fetched, coalesce(c.backfilling, false) as backfilling,
       to_char(c.last_polled_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as last_polled_at
     from sequin_sources s
     join sequin_syncs y on y.id = s.sync_id
     left join (select sync_id, sum(fetched) as fetched, bool_or(not backfill_done) as backfilling,
                  min(last_polled_at) as last_polled_at
                from sequin_source_collections group by sync_id) c on c.sync_id = s.sync_id
     order by y.inserted_at, y.id`,
  );
  return rows;
}

/**
 * A sync's source changed (credential, address, allotment, poll interval, settings): the error is cleared
 * (the new settings are tried afresh) and the lease's fence moves on, so the runner restarts with them.
 * With `reread`, everything is read again as in startRebackfill, in the same statement: the runner that
 * restarts finds both the new settings and the positions started over.
 */
export async function updateSourceRow(
  db: Queryable,
  p: {
    syncId: string;
    credentialsEncrypted: Buffer;
    settings: Record<string, unknown>;
    baseUrl: string;
    maxRequestsPerSecond: number;
    pollIntervalSeconds: number;
    /** Why everything must be read again after this change, or null. */
    reread: string | null;
  },
): Promise<boolean> {
  const result = await db.query(
    `with bumped as (${bumpFenceSql("source", "$1")}),
     source as (
       update sequin_sources set credentials_encrypted = $2, settings = $3, base_url = $4,
         max_requests_per_second = $5, poll_interval_seconds = $6, last_error = null, failing_since = null,
         rebackfill = coalesce($7, rebackfill),
         change_cursor = case when $7::text is null then change_cursor end,
         updated_at = now()
       where sync_id = $1 returning sync_id),
     ${positionsStartOverSql("$7::text is not null")}
     select count(*)::int as n from source`,
    [
      p.syncId,
      p.credentialsEncrypted,
      p.settings,
      p.baseUrl,
      p.maxRequestsPerSecond,
      p.pollIntervalSeconds,
      p.reread,
    ],
  );
  return result.rows[0]?.n === 1;
}

/** A sourced sync's collections changed: new ones get their backfill row; the runner restarts with them. */
export async function addSourceCollections(
  db: Queryable,
  p: { syncId: string; collections: readonly string[] },
): Promise<void> {
  await db.query(
    `with added as (
       insert into sequin_source_collections (sync_id, collection_id)
       select $1, c from unnest($2::text[]) c on conflict do nothing)
     ${bumpFenceSql("source", "$1")}`,
    [p.syncId, p.collections],
  );
}
