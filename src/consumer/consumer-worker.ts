/**
 * The consumer worker of one service process: takes its fair share of the consumers that should run
 * (leases of kind "consumer", src/work), runs a ConsumerRunner for each, hands consumers above its share back
 * at a batch boundary, and stops runners whose consumer was paused, deleted, taken over or restarted (a new
 * fence). Several processes sharing one store split the consumers between them; a consumer whose worker dies
 * or freezes moves to another once the worker's heartbeat is older than the lease.
 */
import type pg from "pg";
import type { Logger } from "pino";
import { Periodic } from "../runtime/index.js";
import { StreamListener, type WakeFilter } from "../stream/index.js";
import { beatMsFor, type WorkerRole, WorkOwnership } from "../work/index.js";
import {
  type ConsumerRow,
  selectActiveConsumerIds,
  selectConsumersByIds,
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
import { TargetMonitor, type TargetMonitorOptions, type TargetProbe } from "./target-monitor.js";

export interface WorkerOptions {
  /** How long a worker's heartbeat keeps its leases: how soon a dead or frozen worker's consumers move. */
  leaseSeconds: number;
  /** How often the worker looks at its share (claims, hands back, restarts runners). */
  tickMs: number;
  /** How often it writes its heartbeat; by default a fifth of the lease. */
  beatMs?: number;
  /** The process's role, as GET /v1/workers shows it. */
  role?: WorkerRole;
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
  private readonly ownership: WorkOwnership;
  private readonly running = new Map<string, Running>();
  private readonly listener: StreamListener;
  private readonly monitor: TargetMonitor;
  private readonly ticks: Periodic;
  private ticking: Promise<void> | undefined;
  private again = false;
  private stopped = true;
  /** Since when the store has failed this worker's ticks (logged once per outage, not every tick). */
  private storeFailingSince: number | undefined;

  constructor(
    private readonly deps: WorkerDeps,
    private readonly options: WorkerOptions = defaultWorkerOptions,
  ) {
    this.ownership = new WorkOwnership(
      deps.store,
      options.role ?? "all",
      { leaseSeconds: options.leaseSeconds, beatMs: options.beatMs ?? beatMsFor(options.leaseSeconds) },
      deps.log,
    );
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
    // a tick reports its own failures (once per store outage), so a round has no error left to report
    this.ticks = new Periodic(
      options.tickMs,
      () => this.tick(),
      () => {},
    );
  }

  /** This worker's id in the store (GET /v1/workers, consumers' worker_id). */
  get id(): string {
    return this.ownership.id;
  }

  async start(): Promise<void> {
    this.stopped = false;
    await this.ownership.start();
    await this.listener.start();
    await this.tick();
    this.ticks.start();
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
    await this.ticks.stop();
    await this.monitor.stop();
    // a tick a poke started is not the Periodic's to wait for
    await this.ticking;
    await Promise.all([...this.running.keys()].map((id) => this.stopRunner(id)));
    await this.ownership.stop();
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

  /**
   * One look at the leases: runners whose lease moved, whose fence changed or that stopped by themselves
   * stop; consumers above the fair share are handed back once their runner stopped (at a batch boundary);
   * free consumers are claimed up to the share; held consumers without a runner get one.
   */
  private async reconcile(): Promise<void> {
    if (this.stopped) return;
    const activeIds = await selectActiveConsumerIds(this.deps.store);
    const plan = await this.ownership.plan("consumer", activeIds);
    const stops: Promise<void>[] = [];
    for (const [id, { runner }] of this.running) {
      const fence = plan.held.get(id);
      if (fence === runner.fence && !runner.stopped) continue;
      if (fence === undefined && !plan.release.includes(id))
        this.deps.log.warn(
          { consumerId: id, fence: runner.fence, leaseMoved: true },
          "the consumer's lease moved to another worker (this one was away longer than its lease); its runner here stops, its writes would be refused",
        );
      stops.push(this.stopRunner(id));
    }
    await Promise.all(stops);
    if (plan.release.length > 0) await this.ownership.release("consumer", plan.release);
    if (this.stopped) return;
    const claimed = await this.ownership.claim("consumer", plan.claim);
    const toRun = new Map([...plan.held, ...claimed].filter(([id]) => !this.running.has(id)));
    if (toRun.size === 0) return;
    const rows = await selectConsumersByIds(this.deps.store, [...toRun.keys()]);
    for (const row of rows) {
      if (row.desired === "active" && !this.stopped) await this.startRunner(row, toRun.get(row.id)!);
    }
  }

  private async startRunner(row: ConsumerRow, fence: string): Promise<void> {
    const runner = new ConsumerRunner(
      assignmentOf(row, fence),
      {
        store: this.deps.store,
        connectTarget: () => this.deps.connectTarget(row.target_id),
        log: this.deps.log,
        leaseSeconds: this.options.leaseSeconds,
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
  }
}
