/**
 * Work ownership for one worker process, for any kind of work (consumers now, sources next).
 *
 * - One heartbeat row per process, written once per beat: that single write keeps every lease the worker
 *   holds alive. A worker is live while its last beat is younger than its lease seconds (database clock).
 * - A lease `(kind, resource_id, owner, fence)` is held while its owner is live. Claiming moves the fence on;
 *   every commit of the work checks it (in the store, and in the target for consumers), so a worker that lost
 *   its lease (dead, or frozen past its lease and awake again) changes nothing.
 * - Fair share: each worker holds at most `ceil(active resources / live workers)`. A worker above it hands the
 *   excess back at a batch boundary (its runners stop first); a worker below it claims free resources,
 *   including those of workers no longer live.
 *
 * The kind's own code decides which resources should run and starts or stops their runners;
 * `plan` says what to do.
 */
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import type pg from "pg";
import type { Logger } from "pino";
import { Periodic } from "../runtime/index.js";
import {
  beatWorker,
  claimLeases,
  forgetDeadWorkers,
  type LeaseView,
  leaveWorker,
  releaseLeases,
  selectLeaseView,
  type WorkKind,
} from "./work-queries.js";

export type WorkerRole = "all" | "api" | "worker";

export interface OwnershipOptions {
  /** How long a worker's beat keeps it (and its leases) alive. */
  leaseSeconds: number;
  /** How often it beats. */
  beatMs: number;
}

/** A beat every fifth of the lease, between 200 ms and 5 s. */
export function beatMsFor(leaseSeconds: number): number {
  return Math.min(5000, Math.max(200, Math.floor((leaseSeconds * 1000) / 5)));
}

/** The most resources one worker should hold. */
export function fairShare(active: number, liveWorkers: number): number {
  return Math.ceil(active / Math.max(1, liveWorkers));
}

export interface SharePlan {
  /** resources this worker holds and should run, with their fence */
  held: Map<string, string>;
  /** resources to hand back: held but not to run any more, or above the fair share */
  release: string[];
  /** free resources to try to claim, at most what brings this worker up to its share */
  claim: string[];
  share: number;
}

/** What this worker should do with its leases, from one look at them. Pure. */
export function planShare(view: LeaseView, owner: string, pick = shuffle): SharePlan {
  const active = view.leases.filter((l) => l.active);
  const held = new Map<string, string>();
  const release: string[] = [];
  for (const lease of view.leases) {
    if (lease.owner !== owner) continue;
    if (lease.active) held.set(lease.resource_id, lease.fence!);
    else release.push(lease.resource_id);
  }
  const share = fairShare(active.length, view.liveWorkers);
  const excess = held.size - share;
  if (excess > 0) {
    const handed = [...held.keys()].slice(-excess);
    for (const id of handed) held.delete(id);
    release.push(...handed);
  }
  const free = active.filter((l) => l.owner === null || (l.owner !== owner && !l.owner_live));
  const claim = pick(free.map((l) => l.resource_id)).slice(0, Math.max(0, share - held.size));
  return { held, release, claim, share };
}

function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

export class WorkOwnership {
  readonly id = randomUUID();
  private readonly heartbeat: Periodic;
  private beatFailingSince: number | undefined;

  constructor(
    private readonly db: pg.Pool,
    private readonly role: WorkerRole,
    private readonly options: OwnershipOptions,
    private readonly log: Logger,
  ) {
    // a failed beat logs itself, once per outage (beat below)
    this.heartbeat = new Periodic(
      options.beatMs,
      () => this.beat(),
      () => {},
    );
  }

  /** Writes the first beat (the worker is live from now on) and keeps beating. */
  async start(): Promise<void> {
    await forgetDeadWorkers(this.db, 24 * 3600).catch(() => {});
    await this.beat();
    this.heartbeat.start();
  }

  /**
   * Stops beating without handing anything back, as a process that froze or died would: its leases go to
   * other workers once its last beat is older than the lease. For failover tests; `stop()` is how a worker
   * leaves.
   */
  freeze(): Promise<void> {
    return this.heartbeat.stop();
  }

  /** Stops beating, hands every lease back and removes the worker's row (its runners stopped first). */
  async stop(): Promise<void> {
    await this.heartbeat.stop();
    await leaveWorker(this.db, this.id).catch((error: unknown) => {
      this.log.warn({ err: (error as Error).message }, "worker: could not hand its leases back on stop");
    });
  }

  /** Looks at the leases of `kind` on the resources that should run, and plans this worker's share. */
  async plan(kind: WorkKind, activeIds: readonly string[]): Promise<SharePlan> {
    return planShare(await selectLeaseView(this.db, kind, activeIds, this.id), this.id);
  }

  claim(kind: WorkKind, ids: readonly string[]): Promise<Map<string, string>> {
    return claimLeases(this.db, kind, ids, this.id);
  }

  release(kind: WorkKind, ids: readonly string[]): Promise<void> {
    return releaseLeases(this.db, kind, ids, this.id);
  }

  private async beat(): Promise<void> {
    try {
      await beatWorker(this.db, {
        id: this.id,
        hostname: hostname(),
        pid: process.pid,
        role: this.role,
        leaseSeconds: this.options.leaseSeconds,
      });
      if (this.beatFailingSince !== undefined) {
        const seconds = Math.round((Date.now() - this.beatFailingSince) / 1000);
        this.log.info({ seconds }, "worker: heartbeat written again");
        this.beatFailingSince = undefined;
      }
    } catch (error) {
      if (this.beatFailingSince === undefined) {
        this.beatFailingSince = Date.now();
        this.log.warn(
          { err: (error as Error).message },
          "worker: heartbeat failed; its work moves to other workers if this lasts past the lease",
        );
      }
      throw error;
    }
  }
}
