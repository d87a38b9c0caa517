/**
 * Watches the health of every entity (consumers and targets) and queues one alert when one becomes
 * unhealthy and one when it recovers. A new status must hold for `settleMs` before it counts, so a flapping
 * entity cannot cause a storm; the stored `alerted_status` is swapped with a compare-and-set, so among
 * several processes exactly one queues each alert. A round reads every entity's health and alerted status
 * from one statistics read (shared with /metrics and the lag sample); only an alert to queue writes.
 */
import type pg from "pg";
import type { Logger } from "pino";
import { withTransaction } from "../../db/transaction.js";
import type { CheckStatus } from "../../health-checks.js";
import { Periodic } from "../../runtime/index.js";
import type { AlertEntity } from "./alert-entities.js";
import type { AlertPayload } from "./alert-payload.js";
import { type AlertChannel, insertDelivery, swapAlertedStatus } from "./alert-queries.js";

export interface HealthWatcherOptions {
  intervalMs: number;
  settleMs: number;
}

export const defaultHealthWatcherOptions: HealthWatcherOptions = { intervalMs: 2000, settleMs: 10_000 };

export class HealthWatcher {
  readonly name = "health-watcher";
  private readonly periodic: Periodic;
  /** Status each entity (by kind and id) has shown continuously since a time. */
  private readonly seen = new Map<string, { status: CheckStatus; since: number }>();

  constructor(
    private readonly pool: pg.Pool,
    /** Every entity's health and the status it last alerted about. */
    private readonly entities: () => Promise<AlertEntity[]>,
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

  /** One round: compare every entity's health with what it last alerted about. */
  async check(now = Date.now()): Promise<void> {
    const entities = await this.entities();
    const present = new Set<string>();
    for (const entity of entities) {
      const key = `${entity.kind}:${entity.id}`;
      present.add(key);
      const status = entity.health.status;
      const seen = this.seen.get(key);
      if (!seen || seen.status !== status) this.seen.set(key, { status, since: now });
      const since = this.seen.get(key)!.since;
      if (status === entity.alerted || now - since < this.options.settleMs) continue;
      await this.alert(entity, status);
    }
    for (const key of this.seen.keys()) if (!present.has(key)) this.seen.delete(key);
  }

  private async alert(entity: AlertEntity, to: CheckStatus): Promise<void> {
    const event = `${entity.kind}.${to === "unhealthy" ? "unhealthy" : "recovered"}` as const;
    const payload: AlertPayload = {
      event,
      at: new Date().toISOString(),
      entity: {
        kind: entity.kind,
        id: entity.id,
        name: entity.name,
        status: to,
        failing: entity.failing,
      },
      ...entity.details,
    };
    const won = await withTransaction(this.pool, async (client) => {
      if (!(await swapAlertedStatus(client, entity, entity.alerted, to))) return false;
      for (const channel of this.channels) {
        await insertDelivery(client, { kind: entity.kind, entityId: entity.id, channel, event, payload });
      }
      return true;
    });
    if (won) {
      this.log.warn(
        { [entity.kind]: entity.name, event, notes: entity.health.notes },
        `${entity.kind} ${to}`,
      );
    }
  }
}
