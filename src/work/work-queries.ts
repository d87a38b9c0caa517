/**
 * SQL for work ownership (migration 009): the heartbeat row of each worker process and the leases on pieces
 * of work of any kind. Nothing here knows what a kind's work is; callers pass the ids that should run.
 */
import type { Queryable } from "../db/queryable.js";

/** The kinds of work a worker runs. Each kind's commits check its fence through `fenceHolds`. */
export type WorkKind = "consumer" | "source";

export interface WorkerRow {
  id: string;
  hostname: string;
  pid: number;
  role: string;
  started_at: Date;
  heartbeat_at: Date;
  expires_at: Date;
}

/**
 * A worker's beat: its row, written (created the first time, or again after it was away) with a new expiry.
 * The one write per beat that keeps all the worker's leases alive.
 */
export async function beatWorker(
  db: Queryable,
  w: { id: string; hostname: string; pid: number; role: string; leaseSeconds: number },
): Promise<void> {
  await db.query(
    `insert into sequin_workers as w (id, hostname, pid, role, expires_at)
     values ($1, $2, $3, $4, now() + make_interval(secs => $5))
     on conflict (id) do update set heartbeat_at = now(), expires_at = now() + make_interval(secs => $5)`,
    [w.id, w.hostname, w.pid, w.role, w.leaseSeconds],
  );
}

/** A worker leaving: its leases are released and its row removed, so its work moves at once. */
export async function leaveWorker(db: Queryable, id: string): Promise<void> {
  await db.query(
    `with released as (update sequin_leases set owner = null where owner = $1)
     delete from sequin_workers where id = $1`,
    [id],
  );
}

/** Forgets workers dead for longer than `seconds` (their rows only serve GET /v1/workers while live). */
export async function forgetDeadWorkers(db: Queryable, seconds: number): Promise<void> {
  await db.query("delete from sequin_workers where expires_at < now() - make_interval(secs => $1)", [
    seconds,
  ]);
}

export interface LiveWorkerRow extends WorkerRow {
  /** leases held, by kind */
  consumers: number;
  sources: number;
}

export async function selectLiveWorkers(db: Queryable): Promise<LiveWorkerRow[]> {
  const { rows } = await db.query<LiveWorkerRow>(
    `select w.id::text, w.hostname, w.pid, w.role, w.started_at, w.heartbeat_at, w.expires_at,
       (select count(*)::int from sequin_leases l where l.owner = w.id and l.kind = 'consumer') as consumers,
       (select count(*)::int from sequin_leases l where l.owner = w.id and l.kind = 'source') as sources
     from sequin_workers w where w.expires_at > now() order by w.started_at, w.id`,
  );
  return rows;
}

export interface LeaseRow {
  resource_id: string;
  /** whether the resource is among those that should run */
  active: boolean;
  owner: string | null;
  fence: string | null;
  /** whether the owner's heartbeat is younger than its lease */
  owner_live: boolean;
}

export interface LeaseView {
  leases: LeaseRow[];
  /** live worker processes (each counted once), this one included */
  liveWorkers: number;
}

/**
 * What a worker needs to decide its share, in one read: every resource that should run (with its lease,
 * if any), the leases this worker holds on resources that should not run any more, and the live workers.
 */
export async function selectLeaseView(
  db: Queryable,
  kind: WorkKind,
  activeIds: readonly string[],
  owner: string,
): Promise<LeaseView> {
  const { rows } = await db.query<LeaseRow & { live_workers: number }>(
    `select a.id::text as resource_id, true as active, l.owner::text as owner, l.fence::text as fence,
       coalesce(w.expires_at > now(), false) as owner_live, lw.n as live_workers
     from unnest($2::uuid[]) as a(id)
     cross join (select count(*)::int as n from sequin_workers where expires_at > now()) lw
     left join sequin_leases l on l.kind = $1 and l.resource_id = a.id
     left join sequin_workers w on w.id = l.owner
     union all
     select l.resource_id::text, false, l.owner::text, l.fence::text, true, 0
     from sequin_leases l where l.kind = $1 and l.owner = $3 and l.resource_id <> all($2::uuid[])`,
    [kind, activeIds, owner],
  );
  let liveWorkers = 0;
  for (const row of rows) liveWorkers = Math.max(liveWorkers, row.live_workers);
  return {
    leases: rows.map(({ live_workers: _, ...lease }) => lease),
    liveWorkers,
  };
}

/**
 * Takes the resources among `ids` that are free (never claimed, released, or held by a worker no longer
 * live), each with its fence moved on by one; returns those taken with their new fence. Two workers
 * claiming the same resource at once: the second finds it held by a live worker and skips it.
 */
export async function claimLeases(
  db: Queryable,
  kind: WorkKind,
  ids: readonly string[],
  owner: string,
): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const { rows } = await db.query<{ resource_id: string; fence: string }>(
    `insert into sequin_leases as l (kind, resource_id, owner, fence, claimed_at)
     select $1, id, $3, 1, now() from unnest($2::uuid[]) as id
     on conflict (kind, resource_id) do update set owner = $3, fence = l.fence + 1, claimed_at = now()
       where l.owner is null
          or not exists (select 1 from sequin_workers w where w.id = l.owner and w.expires_at > now())
     returning l.resource_id::text, l.fence::text`,
    [kind, ids, owner],
  );
  return new Map(rows.map((r) => [r.resource_id, r.fence]));
}

/** Hands resources back (their runners stopped first); the fence stays, so it never goes back. */
export async function releaseLeases(
  db: Queryable,
  kind: WorkKind,
  ids: readonly string[],
  owner: string,
): Promise<void> {
  if (ids.length === 0) return;
  await db.query(
    "update sequin_leases set owner = null where kind = $1 and resource_id = any($2::uuid[]) and owner = $3",
    [kind, ids, owner],
  );
}

/**
 * SQL that holds while `fence` is still the resource's fence, for the where clause of a commit. It takes a
 * share lock on the lease row, so a claim (which moves the fence) waits for the commit, and a commit after a
 * claim sees the new fence. `resourceSql` and `fenceSql` are SQL expressions (parameters).
 */
export function fenceHolds(kind: WorkKind, resourceSql: string, fenceSql: string): string {
  return `exists (select 1 from sequin_leases fl where fl.kind = '${kind}' and fl.resource_id = ${resourceSql}
    and fl.fence = ${fenceSql} for share)`;
}

/**
 * SQL (a data-modifying CTE body) that moves a resource's fence on, so its runner restarts with the new one
 * (a definition change, a rewrite asked for, "retry now").
 */
export function bumpFenceSql(kind: WorkKind, resourceSql: string): string {
  return `update sequin_leases set fence = fence + 1 where kind = '${kind}' and resource_id = ${resourceSql}`;
}

/** The live owner of each resource of `kind` that has one. */
export async function selectLiveOwners(
  db: Queryable,
  kind: WorkKind,
  ids?: readonly string[],
): Promise<Map<string, string>> {
  const { rows } = await db.query<{ resource_id: string; owner: string }>(
    `select l.resource_id::text, l.owner::text from sequin_leases l
     join sequin_workers w on w.id = l.owner and w.expires_at > now()
     where l.kind = $1 and ($2::uuid[] is null or l.resource_id = any($2::uuid[]))`,
    [kind, ids ?? null],
  );
  return new Map(rows.map((r) => [r.resource_id, r.owner]));
}
