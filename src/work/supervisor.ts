/**
 * Runs one worker's share of one kind of work (consumers, sources): every tick, one look at the leases —
 * runners whose lease moved, whose fence changed or that stopped by themselves stop; resources above the
 * fair share are handed back once their runner stopped (at a batch boundary); free resources are claimed
 * up to the share; held resources without a runner get one. The kind's own code says which resources should
 * run and how to start a runner; the rest is here, once.
 */
import type { Logger } from "pino";
import { Periodic } from "../runtime/index.js";
import type { WorkOwnership } from "./work-ownership.js";
import type { WorkKind } from "./work-queries.js";

/** What the supervisor needs of a runner. */
export interface SupervisedRunner {
  /** The fence it runs under; a different fence in the lease means it must restart. */
  readonly fence: string;
  /** It ended by itself (its lease was refused, the resource was paused). */
  readonly stopped: boolean;
  /** Lets the batch in flight finish, then returns. */
  stop(): Promise<void>;
}

export interface SupervisorHooks<R extends SupervisedRunner> {
  kind: WorkKind;
  /** The log field naming a resource (`consumerId`, `syncId`). */
  idField: string;
  /** The resources that should run now. */
  activeIds(): Promise<string[]>;
  /** Starts runners for resources this worker now holds (id → fence); returns the ones started. */
  startRunners(toRun: ReadonlyMap<string, string>): Promise<Map<string, R>>;
  /** After a runner stopped: what the kind attached to it (listeners) goes. */
  runnerStopped?(id: string): void;
}

export class Supervisor<R extends SupervisedRunner> {
  private readonly runners = new Map<string, R>();
  private readonly ticks: Periodic;
  private ticking: Promise<void> | undefined;
  private again = false;
  private stopping = true;
  /** Since when the store has failed the ticks (logged once per outage, not every tick). */
  private storeFailingSince: number | undefined;

  constructor(
    private readonly ownership: WorkOwnership,
    private readonly hooks: SupervisorHooks<R>,
    private readonly log: Logger,
    tickMs: number,
  ) {
    // a tick reports its own failures (once per store outage), so a round has no error left to report
    this.ticks = new Periodic(
      tickMs,
      () => this.tick(),
      () => {},
    );
  }

  /** The runners this worker runs now. */
  get running(): ReadonlyMap<string, R> {
    return this.runners;
  }

  async start(): Promise<void> {
    this.stopping = false;
    await this.tick();
    this.ticks.start();
  }

  /** Claims and releases now instead of at the next tick (after a start, pause or resume). */
  poke(): Promise<void> {
    return this.tick();
  }

  /** Stops ticking and every runner (each finishes its batch). */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.ticks.stop();
    // a tick a poke started is not the Periodic's to wait for
    await this.ticking;
    await Promise.all([...this.runners.keys()].map((id) => this.stopRunner(id)));
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
            this.log.info(
              { kind: this.hooks.kind, seconds },
              "worker: the service's store is reachable again",
            );
            this.storeFailingSince = undefined;
          }
        } catch (error) {
          if (this.storeFailingSince === undefined) {
            this.storeFailingSince = Date.now();
            this.log.warn(
              { kind: this.hooks.kind, err: (error as Error).message },
              "worker: the service's store is unreachable; retrying every tick",
            );
          }
        }
      } while (this.again && !this.stopping);
    })().finally(() => {
      this.ticking = undefined;
    });
    return this.ticking;
  }

  private async reconcile(): Promise<void> {
    if (this.stopping) return;
    const { kind } = this.hooks;
    const plan = await this.ownership.plan(kind, await this.hooks.activeIds());
    const stops: Promise<void>[] = [];
    for (const [id, runner] of this.runners) {
      const fence = plan.held.get(id);
      if (fence === runner.fence && !runner.stopped) continue;
      if (fence === undefined && !plan.release.includes(id))
        this.log.warn(
          { kind, [this.hooks.idField]: id, fence: runner.fence, leaseMoved: true },
          "the lease moved to another worker (this one was away longer than its lease); its runner here stops, its writes would be refused",
        );
      stops.push(this.stopRunner(id));
    }
    await Promise.all(stops);
    if (plan.release.length > 0) await this.ownership.release(kind, plan.release);
    if (this.stopping) return;
    const claimed = await this.ownership.claim(kind, plan.claim);
    const toRun = new Map([...plan.held, ...claimed].filter(([id]) => !this.runners.has(id)));
    if (toRun.size === 0) return;
    for (const [id, runner] of await this.hooks.startRunners(toRun)) {
      if (this.stopping) {
        await runner.stop();
        this.hooks.runnerStopped?.(id);
      } else this.runners.set(id, runner);
    }
  }

  private async stopRunner(id: string): Promise<void> {
    const runner = this.runners.get(id);
    if (!runner) return;
    this.runners.delete(id);
    await runner.stop();
    this.hooks.runnerStopped?.(id);
  }
}
