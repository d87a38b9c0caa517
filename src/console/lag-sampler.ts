/**
 * Records each consumer's lag at a fixed interval (30 s by default) for the console's lag chart, and
 * forgets samples older than two hours. A failed round is logged and the next one tries again.
 */
import type pg from "pg";
import type { Logger } from "pino";
import type { ConsumerView } from "../consumer/index.js";
import { Periodic } from "../runtime/index.js";
import { deleteLagSamplesBefore, insertLagSamples } from "./lag-sample-queries.js";

export interface LagSamplerOptions {
  intervalMs: number;
  keepMs: number;
}

export const defaultLagSamplerOptions: LagSamplerOptions = { intervalMs: 30_000, keepMs: 2 * 3600 * 1000 };

export class LagSampler {
  readonly name = "lag-sampler";
  private readonly periodic: Periodic;

  constructor(
    private readonly pool: pg.Pool,
    private readonly listConsumers: () => Promise<ConsumerView[]>,
    log: Logger,
    private readonly options: LagSamplerOptions = defaultLagSamplerOptions,
  ) {
    this.periodic = new Periodic(
      options.intervalMs,
      () => this.sample(),
      (error) => log.warn({ err: (error as Error).message }, "lag sample round failed"),
    );
  }

  async start(): Promise<void> {
    // a first sample at once, so a chart has a point as soon as the service runs
    this.periodic.start(0);
  }

  stop(): Promise<void> {
    return this.periodic.stop();
  }

  /** One sample of every started consumer now (an unstarted one has no lag to speak of), old ones dropped. */
  async sample(): Promise<void> {
    const consumers = (await this.listConsumers()).filter((c) => c.state !== "inactive");
    if (consumers.length > 0) {
      await insertLagSamples(
        this.pool,
        consumers.map((c) => ({ consumerId: c.id, records: c.lag.records, seconds: c.lag.seconds })),
      );
    }
    await deleteLagSamplesBefore(this.pool, new Date(Date.now() - this.options.keepMs));
  }
}
