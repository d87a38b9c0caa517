/**
 * Delivers queued alerts (about consumers and targets alike), apart from the consumers so a slow or broken SMTP server or webhook never holds
 * them up. A failed delivery is logged and retried with capped, jittered backoff until it succeeds.
 */
import type pg from "pg";
import type { Logger } from "pino";
import { backoffDelay, Periodic } from "../../runtime/index.js";
import type { Channel } from "./alert-channels.js";
import { alertedEntity } from "./alert-payload.js";
import { claimDueDeliveries, markDelivered, markFailed } from "./alert-queries.js";

export interface AlertSenderOptions {
  intervalMs: number;
  retry: { initialSeconds: number; maxSeconds: number };
}

export const defaultAlertSenderOptions: AlertSenderOptions = {
  intervalMs: 1000,
  retry: { initialSeconds: 5, maxSeconds: 600 },
};

export class AlertSender {
  readonly name = "alert-sender";
  private readonly periodic: Periodic;
  private readonly channels: Map<string, Channel>;

  constructor(
    private readonly pool: pg.Pool,
    channels: Channel[],
    private readonly log: Logger,
    private readonly options: AlertSenderOptions = defaultAlertSenderOptions,
  ) {
    this.channels = new Map(channels.map((c) => [c.name, c]));
    this.periodic = new Periodic(
      options.intervalMs,
      () => this.round(),
      (error) => log.warn({ err: (error as Error).message }, "alert delivery round failed"),
    );
  }

  async start(): Promise<void> {
    this.periodic.start(0);
  }

  async stop(): Promise<void> {
    await this.periodic.stop();
    for (const channel of this.channels.values()) channel.close?.();
  }

  private async round(): Promise<void> {
    const due = await claimDueDeliveries(this.pool, 20, 60);
    for (const delivery of due) {
      const channel = this.channels.get(delivery.channel);
      if (!channel) {
        // queued while that channel was configured; keep it for a process that has it
        await markFailed(this.pool, delivery.id, `channel ${delivery.channel} is not configured here`, 300);
        continue;
      }
      const entity = alertedEntity(delivery.payload);
      try {
        await channel.send(delivery.payload);
        await markDelivered(this.pool, delivery.id);
        this.log.info(
          { channel: channel.name, event: delivery.event, [entity.kind]: entity.name },
          "alert sent",
        );
      } catch (error) {
        const retry =
          backoffDelay(delivery.attempts, {
            initialMs: this.options.retry.initialSeconds * 1000,
            maxMs: this.options.retry.maxSeconds * 1000,
          }) / 1000;
        await markFailed(this.pool, delivery.id, (error as Error).message, retry);
        this.log.warn(
          {
            channel: channel.name,
            event: delivery.event,
            attempt: delivery.attempts + 1,
            retryInSeconds: retry,
            err: (error as Error).message,
          },
          "alert delivery failed; will retry",
        );
      }
    }
  }
}
