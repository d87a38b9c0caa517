/**
 * The source worker of one service process: takes its fair share of the sourced syncs that should run
 * (leases of kind "source", through the process's work ownership, shared with its consumers) and runs a
 * SourceRunner for each. Several processes sharing one store split the syncs between them; a sync whose
 * worker dies or freezes moves to another once the worker's heartbeat is older than the lease.
 */
import type pg from "pg";
import type { Logger } from "pino";
import { Supervisor, type WorkOwnership } from "../work/index.js";
import { selectActiveSourceIds, selectSourceCollections, selectSources } from "./source-queries.js";
import { defaultSourceRunnerOptions, SourceRunner, type SourceRunnerOptions } from "./source-runner.js";
import type { Sources } from "./sources.js";

export interface SourceWorkerDeps {
  store: pg.Pool;
  sources: Sources;
  ownership: WorkOwnership;
  log: Logger;
}

export interface SourceWorkerOptions {
  tickMs: number;
  runner: SourceRunnerOptions;
}

export const defaultSourceWorkerOptions: SourceWorkerOptions = {
  tickMs: 1000,
  runner: defaultSourceRunnerOptions,
};

export class SourceWorker {
  readonly name = "source-worker";
  private readonly supervisor: Supervisor<SourceRunner>;

  constructor(
    private readonly deps: SourceWorkerDeps,
    private readonly options: SourceWorkerOptions = defaultSourceWorkerOptions,
  ) {
    this.supervisor = new Supervisor(
      deps.ownership,
      {
        kind: "source",
        idField: "syncId",
        activeIds: () => selectActiveSourceIds(deps.store),
        startRunners: (toRun) => this.startRunners(toRun),
      },
      deps.log,
      options.tickMs,
    );
  }

  start(): Promise<void> {
    return this.supervisor.start();
  }

  /** Claims and releases now (after a sync with a source was created, paused or resumed). */
  poke(): Promise<void> {
    return this.supervisor.poke();
  }

  stop(): Promise<void> {
    return this.supervisor.stop();
  }

  private async startRunners(toRun: ReadonlyMap<string, string>): Promise<Map<string, SourceRunner>> {
    const ids = [...toRun.keys()];
    const [rows, collections] = await Promise.all([
      selectSources(this.deps.store, ids),
      selectSourceCollections(this.deps.store, ids),
    ]);
    const started = new Map<string, SourceRunner>();
    for (const row of rows) {
      if (row.desired !== "active") continue;
      let runner: SourceRunner | undefined;
      const source = this.deps.sources.build(row, (event) => runner?.countRequest(event.throttled));
      runner = new SourceRunner(
        {
          syncId: row.sync_id,
          name: row.sync_name,
          fence: toRun.get(row.sync_id)!,
          collections: row.collections,
          changeCursor: row.change_cursor,
          rebackfill: row.rebackfill,
          backfill: new Map(
            (collections.get(row.sync_id) ?? []).map((c) => [
              c.collection_id,
              { token: c.backfill_token, done: c.backfill_done },
            ]),
          ),
          lastError: row.last_error,
          pollIntervalMs: row.poll_interval_seconds * 1000,
        },
        { store: this.deps.store, source, log: this.deps.log },
        this.options.runner,
      );
      runner.start();
      started.set(row.sync_id, runner);
    }
    return started;
  }
}
