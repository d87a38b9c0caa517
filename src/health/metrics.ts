/**
 * Prometheus metrics of the service: consumer lag and state and sourced syncs' requests, records and
 * poll age (from the latest health round, read from the store at most a second ago), records applied,
 * batch latency and errors (counted as they happen in this process), plus Node's own metrics.
 */
import client from "prom-client";
import type { BatchApplied, ConsumerRef, ConsumerView } from "../consumer/index.js";
import { consumerStates, lagCountCap } from "../consumer/index.js";
import type { SyncStatistics } from "../sources/index.js";

export class ServiceMetrics {
  readonly registry = new client.Registry();
  private readonly applied: client.Counter<"consumer" | "kind">;
  private readonly batchSeconds: client.Histogram<"consumer">;
  private readonly errors: client.Counter<"consumer" | "kind" | "sqlstate">;
  private readonly ingested: client.Counter<"result">;

  constructor(
    private readonly listConsumers: () => Promise<ConsumerView[]>,
    private readonly listSyncs: () => Promise<SyncStatistics[]> = async () => [],
  ) {
    client.collectDefaultMetrics({ register: this.registry, prefix: "sequin_" });
    const registers = [this.registry];
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

  /**
   * The whole scrape: the registry's counters, histogram and Node's metrics, then the consumer gauges
   * from the latest health round. Those are written here line by line: 1,000 consumers make ~9,000
   * series, which cost prom-client's gauges ~40 ms of CPU per scrape to fill and render, ~3 ms this way.
   */
  async text(): Promise<string> {
    const [registered, consumers, syncs] = await Promise.all([
      this.registry.metrics(),
      this.listConsumers(),
      this.listSyncs(),
    ]);
    return `${registered}${consumerGauges(consumers)}${syncGauges(syncs)}`;
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

/** A label value as Prometheus text needs it: backslash, double quote and newline escaped. */
function label(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function gaugeText(name: string, help: string, lines: string[]): string {
  return `# HELP ${name} ${help}\n# TYPE ${name} gauge\n${lines.join("")}`;
}

/** The consumer gauges in Prometheus text format. */
export function consumerGauges(list: ConsumerView[]): string {
  const lagRecords: string[] = [];
  const lagSeconds: string[] = [];
  const healthy: string[] = [];
  const states: string[] = [];
  for (const c of list) {
    const consumer = `consumer="${label(c.name)}"`;
    lagRecords.push(`sequin_consumer_lag_records{${consumer}} ${c.lag.records}\n`);
    lagSeconds.push(`sequin_consumer_lag_seconds{${consumer}} ${c.lag.seconds}\n`);
    healthy.push(`sequin_consumer_healthy{${consumer}} ${c.health.status === "healthy" ? 1 : 0}\n`);
    for (const s of consumerStates)
      states.push(`sequin_consumer_state{${consumer},state="${s}"} ${c.state === s ? 1 : 0}\n`);
  }
  return [
    gaugeText("sequin_consumers", "Consumers defined", [`sequin_consumers ${list.length}\n`]),
    gaugeText(
      "sequin_consumer_lag_records",
      `Changes in the stream the consumer has not applied yet (counted up to ${lagCountCap.toLocaleString("en-US")})`,
      lagRecords,
    ),
    gaugeText(
      "sequin_consumer_lag_seconds",
      "Age of the oldest change the consumer has not applied yet",
      lagSeconds,
    ),
    gaugeText("sequin_consumer_healthy", "1 when the consumer is healthy, 0 when unhealthy", healthy),
    gaugeText("sequin_consumer_state", "1 for the consumer's current state, 0 for the others", states),
  ].join("\n");
}

const syncStates = ["backfilling", "live", "paused", "failing"] as const;

/** The sourced syncs' series in Prometheus text format. */
export function syncGauges(list: SyncStatistics[], now: number = Date.now()): string {
  const requests: string[] = [];
  const throttled: string[] = [];
  const fetched: string[] = [];
  const pollAge: string[] = [];
  const healthy: string[] = [];
  const states: string[] = [];
  for (const s of list) {
    const sync = `sync="${label(s.name)}",provider="${label(s.provider)}"`;
    requests.push(`sequin_sync_requests_total{${sync}} ${s.requests}\n`);
    throttled.push(`sequin_sync_throttled_total{${sync}} ${s.throttled}\n`);
    fetched.push(`sequin_sync_backfill_records_total{${sync}} ${s.fetched}\n`);
    if (s.lastPolledAt)
      pollAge.push(
        `sequin_sync_poll_age_seconds{${sync}} ${Math.max(0, (now - Date.parse(s.lastPolledAt)) / 1000)}\n`,
      );
    healthy.push(`sequin_sync_healthy{${sync}} ${s.health.status === "healthy" ? 1 : 0}\n`);
    for (const state of syncStates)
      states.push(`sequin_sync_state{${sync},state="${state}"} ${s.state === state ? 1 : 0}\n`);
  }
  const counter = (name: string, help: string, lines: string[]) =>
    `# HELP ${name} ${help}\n# TYPE ${name} counter\n${lines.join("")}`;
  return [
    counter(
      "sequin_sync_requests_total",
      "Requests a sourced sync made to its provider, on every worker",
      requests,
    ),
    counter("sequin_sync_throttled_total", "Of those, answered with the provider's rate limit", throttled),
    counter("sequin_sync_backfill_records_total", "Objects read by the sync's backfills", fetched),
    gaugeText(
      "sequin_sync_poll_age_seconds",
      "Seconds since the sync last polled its provider's changes: how far behind it can be",
      pollAge,
    ),
    gaugeText("sequin_sync_healthy", "1 when the sync is healthy, 0 when unhealthy", healthy),
    gaugeText("sequin_sync_state", "1 for the state the sync is in", states),
  ].join("");
}
