/**
 * The consumer worker of one service process: takes its fair share of the consumers that should run
 * (leases of kind "consumer", src/work), runs a ConsumerRunner for each, hands consumers above its share back
 * at a batch boundary, and stops runners whose consumer was paused, deleted, taken over or restarted (a new
 * fence). Several processes sharing one store split the consumers between them; a consumer whose worker dies
 * or freezes moves to another once the worker's heartbeat is older than the lease.
 */
import type pg from "pg";
import type { Logger } from "pino";
import { StreamListener, type WakeFilter } from "../stream/index.js";
import { beatMsFor, Supervisor, type WorkerRole, WorkOwnership } from "../work/index.js";
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
  /** The process's work ownership, shared with its other kinds of work; by default the worker's own. */
  ownership?: WorkOwnership;
}

interface Running {
  runner: ConsumerRunner;
  targetId: string;
  unsubscribe: () => void;
}

export class ConsumerWorker {
  readonly name = "consumer-worker";
  private readonly ownership: WorkOwnership;
  /** Whether this worker started the ownership (and so stops it), or shares the process's. */
  private readonly ownsOwnership: boolean;
  private readonly supervisor: Supervisor<ConsumerRunner>;
  /** What each running consumer's runner is attached to, beyond the supervisor's runner. */
  private readonly attached = new Map<string, Omit<Running, "runner">>();
  private readonly listener: StreamListener;
  private readonly monitor: TargetMonitor;

  constructor(
    private readonly deps: WorkerDeps,
    private readonly options: WorkerOptions = defaultWorkerOptions,
  ) {
    this.ownsOwnership = deps.ownership === undefined;
    this.ownership =
      deps.ownership ??
      new WorkOwnership(
        deps.store,
        options.role ?? "all",
        { leaseSeconds: options.leaseSeconds, beatMs: options.beatMs ?? beatMsFor(options.leaseSeconds) },
        deps.log,
      );
    this.supervisor = new Supervisor(
      this.ownership,
      {
        kind: "consumer",
        idField: "consumerId",
        activeIds: () => selectActiveConsumerIds(deps.store),
        startRunners: (toRun) => this.startRunners(toRun),
        runnerStopped: (id) => {
          this.attached.get(id)?.unsubscribe();
          this.attached.delete(id);
        },
      },
      deps.log,
      options.tickMs,
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
  }

  /** This worker's id in the store (GET /v1/workers, consumers' worker_id). */
  get id(): string {
    return this.ownership.id;
  }

  async start(): Promise<void> {
    if (this.ownsOwnership) await this.ownership.start();
    await this.listener.start();
    await this.supervisor.start();
    this.monitor.start();
  }

  /** Claims and releases now instead of at the next tick (after a start, pause or resume). */
  poke(): Promise<void> {
    return this.supervisor.poke();
  }

  snapshot(consumerId: string): RunnerSnapshot | undefined {
    return this.supervisor.running.get(consumerId)?.snapshot();
  }

  async stop(): Promise<void> {
    await this.monitor.stop();
    await this.supervisor.stop();
    if (this.ownsOwnership) await this.ownership.stop();
    await this.listener.stop();
  }

  /** Targets whose consumers are running here and not already waiting for them (those probe on their own). */
  private targetsToProbe(): string[] {
    const ids = new Set<string>();
    for (const [id, runner] of this.supervisor.running) {
      const targetId = this.attached.get(id)?.targetId;
      if (targetId && runner.snapshot().state !== "waiting_for_target") ids.add(targetId);
    }
    return [...ids];
  }

  private targetUnreachable(targetId: string, reason: string): void {
    this.deps.log.warn({ target: targetId, reason }, "target probe failed; its consumers wait for it");
    for (const [id, runner] of this.supervisor.running) {
      if (this.attached.get(id)?.targetId === targetId) runner.markTargetUnreachable(reason);
    }
  }

  private async startRunners(toRun: ReadonlyMap<string, string>): Promise<Map<string, ConsumerRunner>> {
    const started = new Map<string, ConsumerRunner>();
    const rows = await selectConsumersByIds(this.deps.store, [...toRun.keys()]);
    for (const row of rows) {
      if (row.desired !== "active") continue;
      started.set(row.id, await this.startRunner(row, toRun.get(row.id)!));
    }
    return started;
  }

  private async startRunner(row: ConsumerRow, fence: string): Promise<ConsumerRunner> {
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
    this.attached.set(row.id, { targetId: row.target_id, unsubscribe });
    runner.start();
    return runner;
  }

  private async wakeFilter(row: ConsumerRow): Promise<WakeFilter> {
    if (row.filter_provider) return { provider: row.filter_provider };
    const provider = await selectSyncProvider(this.deps.store, row.filter_sync_id!);
    return provider ? { provider } : { all: true };
  }
}
