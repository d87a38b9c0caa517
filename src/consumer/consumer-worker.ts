/**
 * The consumer worker of one service process: claims consumers that should run (a lease row per consumer,
 * with a fencing number), runs a ConsumerRunner for each, renews the leases, and stops runners whose
 * consumer was paused, deleted or taken over. Several processes sharing one store split the consumers
 * between them; a consumer whose worker dies moves to another once its lease expires.
 */
import { randomUUID } from "node:crypto";
import type pg from "pg";
import type { Logger } from "pino";
import { TargetMonitor, type TargetMonitorOptions, type TargetProbe } from "../health/target-monitor.js";
import { StreamListener, type WakeFilter } from "../stream/index.js";
import {
  type ConsumerRow,
  claimConsumers,
  releaseLease,
  renewLeases,
  selectSyncProvider,
} from "./consumer-queries.js";
import {
  ConsumerRunner,
  defaultRunnerOptions,
  type RunnerDeps,
  type RunnerOptions,
  type RunnerSnapshot,
} from "./consumer-runner.js";
import { assignmentOf } from "./consumer-view.js";

export interface WorkerOptions {
  /** How long a claim lasts without renewal: how soon a dead worker's consumers move. */
  leaseSeconds: number;
  /** How often leases are renewed and new consumers claimed. */
  tickMs: number;
  runner: RunnerOptions;
  /** Probing targets in use, so outages are seen within seconds. */
  targetProbe: TargetMonitorOptions;
}

export const defaultWorkerOptions: WorkerOptions = {
  leaseSeconds: 15,
  tickMs: 1000,
  runner: defaultRunnerOptions,
  targetProbe: { intervalMs: 2000, timeoutMs: 5000 },
};

export interface WorkerDeps {
  store: pg.Pool;
  storeUrl: string;
  log: Logger;
  connectTarget: (targetId: string) => Promise<pg.Client>;
  /** Connects to the target and runs `select 1`. */
  probeTarget: (targetId: string) => Promise<TargetProbe>;
  onBatch?: RunnerDeps["onBatch"];
  onError?: RunnerDeps["onError"];
}

interface Running {
  runner: ConsumerRunner;
  targetId: string;
  unsubscribe: () => void;
}

export class ConsumerWorker {
  readonly name = "consumer-worker";
  readonly owner = `worker-${randomUUID()}`;
  private readonly running = new Map<string, Running>();
  private readonly listener: StreamListener;
  private readonly monitor: TargetMonitor;
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private again = false;
  private stopped = true;
  /** Since when the store has failed this worker's ticks (logged once per outage, not every tick). */
  private storeFailingSince: number | undefined;

  constructor(
    private readonly deps: WorkerDeps,
    private readonly options: WorkerOptions = defaultWorkerOptions,
  ) {
    this.listener = new StreamListener(deps.storeUrl);
    this.monitor = new TargetMonitor(
      options.targetProbe,
      () => this.targetsToProbe(),
      (id) => deps.probeTarget(id),
      (id, reason) => this.targetUnreachable(id, reason),
      (id, error) =>
        deps.log.debug(
          { target: id, err: error.message },
          "target not probed: its address could not be read",
        ),
    );
  }

  async start(): Promise<void> {
    this.stopped = false;
    await this.listener.start();
    await this.tick();
    this.schedule();
    this.monitor.start();
  }

  /** Claims and releases now instead of at the next tick (after a start, pause or resume). */
  poke(): Promise<void> {
    return this.tick();
  }

  snapshot(consumerId: string): RunnerSnapshot | undefined {
    return this.running.get(consumerId)?.runner.snapshot();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.monitor.stop();
    await this.ticking;
    await Promise.all([...this.running.keys()].map((id) => this.stopRunner(id)));
    await this.listener.stop();
  }

  /** Targets whose consumers are running here and not already waiting for them (those probe on their own). */
  private targetsToProbe(): string[] {
    const ids = new Set<string>();
    for (const { runner, targetId } of this.running.values()) {
      if (runner.snapshot().state !== "waiting_for_target") ids.add(targetId);
    }
    return [...ids];
  }

  private targetUnreachable(targetId: string, reason: string): void {
    this.deps.log.warn({ target: targetId, reason }, "target probe failed; its consumers wait for it");
    for (const { runner, targetId: id } of this.running.values()) {
      if (id === targetId) runner.markTargetUnreachable(reason);
    }
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.tick().finally(() => this.schedule());
    }, this.options.tickMs);
  }

  private tick(): Promise<void> {
    if (this.ticking) {
      this.again = true;
      return this.ticking;
    }
    this.ticking = (async () => {
      do {
        this.again = false;
        try {
          await this.reconcile();
          if (this.storeFailingSince !== undefined) {
            const seconds = Math.round((Date.now() - this.storeFailingSince) / 1000);
            this.deps.log.info({ seconds }, "consumer worker: the service's store is reachable again");
            this.storeFailingSince = undefined;
          }
        } catch (error) {
          if (this.storeFailingSince === undefined) {
            this.storeFailingSince = Date.now();
            this.deps.log.warn(
              { err: (error as Error).message },
              "consumer worker: the service's store is unreachable; retrying every tick",
            );
          }
        }
      } while (this.again && !this.stopped);
    })().finally(() => {
      this.ticking = undefined;
    });
    return this.ticking;
  }

  private async reconcile(): Promise<void> {
    if (this.stopped) return;
    const held = await renewLeases(this.deps.store, this.owner, this.options.leaseSeconds);
    for (const [id, { runner }] of this.running) {
      if (held.get(id) !== runner.fence || runner.stopped) await this.stopRunner(id);
    }
    // consumers we hold but do not run (e.g. a fence bump after a definition change) are released and reclaimed
    for (const [id, fence] of held) {
      if (!this.running.has(id)) await releaseLease(this.deps.store, id, this.owner, fence);
    }
    if (this.stopped) return;
    const claimed = await claimConsumers(this.deps.store, this.owner, this.options.leaseSeconds);
    for (const row of claimed) await this.startRunner(row);
  }

  private async startRunner(row: ConsumerRow): Promise<void> {
    const runner = new ConsumerRunner(
      assignmentOf(row),
      {
        store: this.deps.store,
        connectTarget: () => this.deps.connectTarget(row.target_id),
        log: this.deps.log,
        ...(this.deps.onBatch ? { onBatch: this.deps.onBatch } : {}),
        ...(this.deps.onError ? { onError: this.deps.onError } : {}),
      },
      this.options.runner,
    );
    const unsubscribe = this.listener.subscribe(await this.wakeFilter(row), () => runner.notify());
    this.running.set(row.id, { runner, targetId: row.target_id, unsubscribe });
    runner.start();
  }

  private async wakeFilter(row: ConsumerRow): Promise<WakeFilter> {
    if (row.filter_provider) return { provider: row.filter_provider };
    const provider = await selectSyncProvider(this.deps.store, row.filter_sync_id!);
    return provider ? { provider } : { all: true };
  }

  private async stopRunner(id: string): Promise<void> {
    const running = this.running.get(id);
    if (!running) return;
    this.running.delete(id);
    running.unsubscribe();
    await running.runner.stop();
    await releaseLease(this.deps.store, id, this.owner, running.runner.fence).catch(() => {});
  }
}
