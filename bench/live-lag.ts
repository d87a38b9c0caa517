/**
 * Live lag of a consumer under steady ingest: `perTick` new records every `tickMs`; per record, the time from
 * the ingest call's return to the target commit that made it visible (and to the start of that target
 * transaction). Shared by the consumer and scale benchmarks.
 */
import { ingest } from "../src/stream/index.js";
import { qualifiedName, type TableName } from "../src/targets/postgres/index.js";
import { type ConsumerBench, recordChunks, streamHead } from "./consumer-bench-helpers.js";

export interface LagResult {
  records: number;
  seconds: number;
  ingestRate: number;
  /** ms from the ingest call's return to the target commit that made the record visible */
  visible: number[];
  /** ms from the ingest call's return to the start of the target transaction (inserted_at) */
  started: number[];
}

/** Steady ingest of `perTick` new records every `tickMs` for `seconds`, into a live consumer. */
export async function liveLag(
  bench: ConsumerBench,
  syncId: string,
  consumerId: string,
  table: TableName,
  firstId: number,
  seconds: number,
): Promise<LagResult> {
  const perTick = 50;
  const tickMs = 50;
  const ticks = Math.round((seconds * 1000) / tickMs);
  const returnedAt: number[] = [];
  const commitsFrom = bench.progress.commitTimes.length;
  const t0 = performance.now();
  for (let k = 0; k < ticks; k++) {
    const wait = t0 + k * tickMs - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const [records] = recordChunks(
      { count: perTick, firstId: firstId + k * perTick, updatedAtMs: Date.now(), seed: k },
      perTick,
    );
    for (const r of records!) r.payload!["bench_batch"] = k;
    await ingest(bench.store, syncId, records!, { validated: true });
    returnedAt[k] = Date.now();
  }
  const ingestSeconds = (performance.now() - t0) / 1000;
  await bench.progress.reached(consumerId, await streamHead(bench, { syncId }), 60_000);
  const { rows } = await bench.targetAdmin.query<{ k: number; at: number }>(
    `select (payload->>'bench_batch')::int as k, extract(epoch from inserted_at)::float8 * 1000 as at
       from ${qualifiedName(table)} where payload ? 'bench_batch'`,
  );
  if (rows.length !== ticks * perTick)
    throw new Error(`live: ${rows.length} of ${ticks * perTick} records arrived`);
  const commits = bench.progress.commitTimes.slice(commitsFrom);
  const visible: number[] = [];
  const started: number[] = [];
  for (const row of rows) {
    // the first commit acknowledged at or after the transaction began
    const startedMs = Math.floor(row.at);
    let lo = 0;
    let hi = commits.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (commits[mid]! < startedMs) lo = mid + 1;
      else hi = mid;
    }
    const commit = commits[lo];
    if (commit === undefined) throw new Error("live: a record's target commit was not seen");
    visible.push(commit - returnedAt[row.k]!);
    started.push(row.at - returnedAt[row.k]!);
  }
  visible.sort((a, b) => a - b);
  started.sort((a, b) => a - b);
  return {
    records: rows.length,
    seconds: ingestSeconds,
    ingestRate: rows.length / ingestSeconds,
    visible,
    started,
  };
}
