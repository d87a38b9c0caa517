/**
 * Prometheus metrics of the service: consumer lag and state (read from the store at scrape time), records
 * applied, batch latency and errors (counted as they happen in this process), plus Node's own metrics.
 */
import client from "prom-client";
import type { BatchApplied, ConsumerRef, ConsumerView } from "../consumer/index.js";
import { consumerStates } from "../consumer/index.js";

export class ServiceMetrics {
  readonly registry = new client.Registry();
  private readonly applied: client.Counter<"consumer" | "kind">;
  private readonly batchSeconds: client.Histogram<"consumer">;
  private readonly errors: client.Counter<"consumer" | "kind" | "sqlstate">;
  private readonly ingested: client.Counter<"result">;

  constructor(listConsumers: () => Promise<ConsumerView[]>) {
    client.collectDefaultMetrics({ register: this.registry, prefix: "sequin_" });
    const registers = [this.registry];
    // every consumer gauge reads one shared snapshot per scrape (the registry collects them concurrently)
    let snapshot: Promise<ConsumerView[]> | undefined;
    const consumers = () => {
      if (!snapshot) {
        snapshot = listConsumers();
        const clear = () => {
          setTimeout(() => {
            snapshot = undefined;
          }, 500).unref();
        };
        snapshot.then(clear, clear);
      }
      return snapshot;
    };
    const gauge = (
      name: string,
      help: string,
      labelNames: string[],
      fill: (g: client.Gauge<string>, list: ConsumerView[]) => void,
    ) =>
      new client.Gauge({
        name,
        help,
        labelNames,
        registers,
        async collect() {
          const list = await consumers();
          this.reset();
          fill(this, list);
        },
      });
    gauge("sequin_consumers", "Consumers defined", [], (g, list) => g.set(list.length));
    gauge(
      "sequin_consumer_lag_records",
      "Changes in the stream the consumer has not applied yet (counted up to 1,000,000)",
      ["consumer"],
      (g, list) => {
        for (const c of list) g.set({ consumer: c.name }, c.lag.records);
      },
    );
    gauge(
      "sequin_consumer_lag_seconds",
      "Age of the oldest change the consumer has not applied yet",
      ["consumer"],
      (g, list) => {
        for (const c of list) g.set({ consumer: c.name }, c.lag.seconds);
      },
    );
    gauge(
      "sequin_consumer_healthy",
      "1 when the consumer is healthy, 0 when unhealthy",
      ["consumer"],
      (g, list) => {
        for (const c of list) g.set({ consumer: c.name }, c.health.status === "healthy" ? 1 : 0);
      },
    );
    gauge(
      "sequin_consumer_state",
      "1 for the consumer's current state, 0 for the others",
      ["consumer", "state"],
      (g, list) => {
        for (const c of list)
          for (const s of consumerStates) g.set({ consumer: c.name, state: s }, c.state === s ? 1 : 0);
      },
    );
    this.applied = new client.Counter({
      name: "sequin_records_applied_total",
      help: "Rows written to targets by consumers running in this process",
      labelNames: ["consumer", "kind"],
      registers,
    });
    this.batchSeconds = new client.Histogram({
      name: "sequin_batch_duration_seconds",
      help: "Time to apply one batch to a target, from reading it to the committed position",
      labelNames: ["consumer"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.errors = new client.Counter({
      name: "sequin_consumer_errors_total",
      help: "Failed batches by kind (unreachable, refused, transient, store) and SQLSTATE",
      labelNames: ["consumer", "kind", "sqlstate"],
      registers,
    });
    this.ingested = new client.Counter({
      name: "sequin_ingested_records_total",
      help: "Records taken by ingest, by result (accepted, stale, sanitized)",
      labelNames: ["result"],
      registers,
    });
  }

  batchApplied(batch: BatchApplied): void {
    const consumer = batch.consumer.name;
    this.applied.inc({ consumer, kind: "upserted" }, batch.upserted);
    this.applied.inc({ consumer, kind: "deleted" }, batch.deleted);
    this.batchSeconds.observe({ consumer }, batch.seconds);
  }

  batchFailed(ref: ConsumerRef, error: { kind: string; sqlstate?: string }): void {
    this.errors.inc({ consumer: ref.name, kind: error.kind, sqlstate: error.sqlstate ?? "" });
  }

  ingest(result: { accepted: number; stale: number; sanitized: number }): void {
    this.ingested.inc({ result: "accepted" }, result.accepted);
    this.ingested.inc({ result: "stale" }, result.stale);
    this.ingested.inc({ result: "sanitized" }, result.sanitized);
  }
}
