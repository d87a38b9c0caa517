/**
 * One LISTEN connection per process that turns stream notifications into calls to subscribers (consumer
 * runners), so they wake within milliseconds of a commit. It reconnects by itself with capped, jittered backoff and,
 * after reconnecting, wakes everyone, since notifications sent while it was away are lost.
 */
import pg from "pg";
import { Backoff } from "../runtime/index.js";
import { streamChannel } from "./stream-notifier.js";

export type WakeFilter = { provider: string } | { all: true };
type Subscriber = { filter: WakeFilter; wake: () => void };

export class StreamListener {
  private client: pg.Client | undefined;
  private readonly subscribers = new Set<Subscriber>();
  private stopped = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly backoff = new Backoff({ initialMs: 100, maxMs: 5000 });

  constructor(private readonly url: string) {}

  async start(): Promise<void> {
    this.stopped = false;
    await this.connect().catch(() => this.scheduleReconnect());
  }

  subscribe(filter: WakeFilter, wake: () => void): () => void {
    const subscriber = { filter, wake };
    this.subscribers.add(subscriber);
    return () => this.subscribers.delete(subscriber);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => {});
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url, application_name: "sequin-listener" });
    client.on("error", () => this.lost(client));
    client.on("end", () => this.lost(client));
    client.on("notification", (message) => this.dispatch(message.payload ?? "*"));
    await client.connect();
    await client.query(`listen ${streamChannel}`);
    if (this.stopped) {
      await client.end();
      return;
    }
    this.client = client;
    this.backoff.reset();
    this.dispatch("*");
  }

  private lost(client: pg.Client): void {
    if (this.client !== client) return;
    this.client = undefined;
    client.end().catch(() => {});
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.connect().catch(() => this.scheduleReconnect());
    }, this.backoff.next());
  }

  private dispatch(payload: string): void {
    const providers = payload === "*" ? undefined : new Set(payload.split(","));
    for (const subscriber of this.subscribers) {
      const f = subscriber.filter;
      if (!providers || "all" in f || providers.has(f.provider)) subscriber.wake();
    }
  }
}
