/**
 * Watches consumer health and queues one alert when a consumer becomes unhealthy and one when it recovers.
 * A new status must hold for `settleMs` before it counts, so a flapping consumer cannot cause a storm;
 * the stored `alerted_status` is swapped with a compare-and-set, so among several processes exactly one
 * queues each alert. A round reads every consumer's health and alerted status from one statistics read
 * (shared with /metrics and the lag sample); only an alert to queue writes.
 */
import type pg from "pg";
import type { Logger } from "pino";
import type { ConsumerStatistics, ConsumerView } from "../../consumer/index.js";
import { withTransaction } from "../../db/transaction.js";
import { Periodic } from "../../runtime/index.js";
import { type AlertChannel, type AlertPayload, insertDelivery, swapAlertedStatus } from "./alert-queries.js";

export interface HealthWatcherOptions {
  intervalMs: number;
  settleMs: number;
}

export const defaultHealthWatcherOptions: HealthWatcherOptions = { intervalMs: 2000, settleMs: 10_000 };

type Status = "healthy" | "unhealthy";

export class HealthWatcher {
  readonly name = "health-watcher";
  private readonly periodic: Periodic;
  /** Status each consumer has shown continuously since a time. */
  private readonly seen = new Map<string, { status: Status; since: number }>();

  constructor(
    private readonly pool: pg.Pool,
    /** Every consumer's health and the status it last alerted about. */
    private readonly statistics: () => Promise<ConsumerStatistics[]>,
    private readonly channels: AlertChannel[],
    private readonly log: Logger,
    private readonly options: HealthWatcherOptions = defaultHealthWatcherOptions,
  ) {
    this.periodic = new Periodic(
      options.intervalMs,
      () => this.check(),
      (error) => log.warn({ err: (error as Error).message }, "health check round failed"),
    );
  }

  async start(): Promise<void> {
    this.periodic.start();
  }

  stop(): Promise<void> {
    return this.periodic.stop();
  }

  /** One round: compare every consumer's health with what was last alerted. */
  async check(now = Date.now()): Promise<void> {
    const statistics = await this.statistics();
    for (const { view: consumer, alerted } of statistics) {
      const status = consumer.health.status;
      const seen = this.seen.get(consumer.id);
      if (!seen || seen.status !== status) this.seen.set(consumer.id, { status, since: now });
      const since = this.seen.get(consumer.id)!.since;
      const last = alerted;
      if (status === last || now - since < this.options.settleMs) continue;
      await this.alert(consumer, last, status);
    }
    const present = new Set(statistics.map((s) => s.view.id));
    for (const id of this.seen.keys()) if (!present.has(id)) this.seen.delete(id);
  }

  private async alert(consumer: ConsumerView, from: Status, to: Status): Promise<void> {
    const event = to === "unhealthy" ? "consumer.unhealthy" : "consumer.recovered";
    const payload: AlertPayload = {
      event,
      at: new Date().toISOString(),
      consumer: {
        id: consumer.id,
        name: consumer.name,
        state: consumer.state,
        health: consumer.health,
        lag: consumer.lag,
      },
    };
    const won = await withTransaction(this.pool, async (client) => {
      if (!(await swapAlertedStatus(client, consumer.id, from, to))) return false;
      for (const channel of this.channels) {
        await insertDelivery(client, { consumerId: consumer.id, channel, event, payload });
      }
      return true;
    });
    if (won) {
      this.log.warn({ consumer: consumer.name, event, notes: consumer.health.notes }, `consumer ${to}`);
    }
  }
}
