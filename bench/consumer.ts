/**
 * Consumer benchmark: how fast a Postgres consumer moves a stream into one table of the user's Postgres,
 * against a raw COPY of the same rows and a hand-written per-row consumer, all in one run. Two throwaway
 * Postgres servers with default durability settings: the store and the target. See docs/benchmarks.md.
 *
 *   npm run bench                       200,000 records (about two minutes)
 *   npm run bench -- --records 50000
 *   npm run bench -- --quick            a small smoke run
 *
 * Phases (the service parts are the real Consumers, ConsumerWorker and runner, default options):
 *   raw COPY    the sync's live rows exported as COPY text (untimed), then `COPY … FROM STDIN` into an
 *               empty contract table
 *   backfill    a fresh consumer of the sync, timed from start() until its position reaches the head
 *   naive       per-row `insert … on conflict do update` in autocommit, as hand-written consumers do
 *   update      every record ingested again with new content (untimed, consumer paused), then timed from
 *               resume() until the consumer applied them
 *   live        steady ingest of 50 records every 50 ms into the live consumer; per record, the time from
 *               the ingest call's return to the target commit that made it visible
 *   one sync / provider   the same number of records in one sync, and 20 per sync over many syncs of one
 *               provider: backfill of a sync consumer and of a provider consumer
 * Exits non-zero when a table does not match the stream (goals missed are reported, not fatal: figures
 * drift on a shared machine).
 */
import type pg from "pg";
import { ingest } from "../src/stream/index.js";
import { qualifiedName, type TableName } from "../src/targets/postgres/index.js";
import { benchEpochMs, loadNote, machineFacts, RssSampler } from "./bench-helpers.js";
import {
  assertTableMatchesStream,
  type ConsumerBench,
  collectGarbage,
  connectTargetUser,
  copyFileInto,
  createBenchSync,
  createContractTable,
  defineConsumer,
  exportLiveRows,
  ingestAll,
  mb,
  parseConsumerFlags,
  printTable,
  quantile,
  rate,
  recordChunks,
  settle,
  startConsumerBench,
  streamFilterOf,
  streamHead,
} from "./consumer-bench-helpers.js";
import { liveLag } from "./live-lag.js";

const flags = parseConsumerFlags(process.argv.slice(2));
const recordsPerSync = 20;

interface Timed {
  label: string;
  records: number;
  seconds: number;
  nodeCpu: number;
  storeCpu: number;
  targetCpu: number;
  /** RSS after a full GC just before the phase, and the highest sample during it. */
  rssBefore: number;
  peakRss: number;
}

async function timed(
  bench: ConsumerBench,
  rss: RssSampler,
  label: string,
  records: number,
  fn: () => Promise<void>,
): Promise<Timed> {
  await settle(bench);
  rss.reset();
  const rssBefore = rss.sample();
  const store0 = bench.storeServer.cpuSeconds();
  const target0 = bench.targetServer.cpuSeconds();
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await fn();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  return {
    label,
    records,
    seconds,
    nodeCpu: (cpu.user + cpu.system) / 1e6,
    storeCpu: bench.storeServer.cpuSeconds() - store0,
    targetCpu: bench.targetServer.cpuSeconds() - target0,
    rssBefore,
    peakRss: rss.peak(),
  };
}

/** Several runs of one phase as one row: records and seconds added up, the highest RSS. */
function combine(runs: Timed[]): Timed {
  const sum = (f: (t: Timed) => number) => runs.reduce((s, t) => s + f(t), 0);
  return {
    label: `${runs[0]!.label} (${runs.length} runs)`,
    records: sum((t) => t.records),
    seconds: sum((t) => t.seconds),
    nodeCpu: sum((t) => t.nodeCpu),
    storeCpu: sum((t) => t.storeCpu),
    targetCpu: sum((t) => t.targetCpu),
    rssBefore: Math.min(...runs.map((t) => t.rssBefore)),
    peakRss: Math.max(...runs.map((t) => t.peakRss)),
  };
}

/** Starts (or resumes) a consumer and waits until its position reaches the stream's head. */
async function runToHead(
  bench: ConsumerBench,
  consumerId: string,
  filter: { sync_id: string } | { provider: string },
  how: "start" | "resume",
) {
  const head = await streamHead(bench, streamFilterOf(filter));
  return async () => {
    phaseStartedAt = Date.now();
    if (how === "start") await bench.consumers.start(consumerId);
    else await bench.consumers.resume(consumerId);
    await bench.progress.reached(consumerId, head);
  };
}

/** When the last runToHead phase called start() or resume(). */
let phaseStartedAt = 0;

function batchSummary(bench: ConsumerBench, consumerId: string, from: number): string {
  const batches = bench.progress.batches.slice(from).filter((b) => b.consumerId === consumerId);
  if (batches.length === 0) return "no batches";
  const applySeconds = batches.reduce((s, b) => s + b.seconds, 0);
  const rows = batches.reduce((s, b) => s + b.rows, 0);
  const firstBegan = batches[0]!.at - batches[0]!.seconds * 1000;
  return `${batches.length} batches of ~${Math.round(rows / batches.length)} rows, ${(applySeconds / batches.length).toFixed(3)} s each (copy+apply+commit); the first began ${Math.round(firstBegan - phaseStartedAt)} ms after start()/resume()`;
}

/** Per-row upserts in autocommit: one round trip and one commit flush per record. */
async function naiveConsumer(client: pg.Client, table: TableName, rows: NaiveRow[]): Promise<void> {
  const sql = `insert into ${qualifiedName(table)} as t
      (sequin_id, sync_id, collection_id, upstream_id, payload, upstream_updated_at, inserted_at, updated_at)
    values ($1, $2, $3, $4, $5, $6, now(), now())
    on conflict (sequin_id) do update
      set payload = excluded.payload, upstream_updated_at = excluded.upstream_updated_at, updated_at = now()
      where t.upstream_updated_at < excluded.upstream_updated_at`;
  for (const r of rows) {
    await client.query(sql, [
      r.sequin_id,
      r.sync_id,
      r.collection_id,
      r.upstream_id,
      r.payload,
      r.upstream_updated_at,
    ]);
  }
}

interface NaiveRow {
  sequin_id: string;
  sync_id: string;
  collection_id: string;
  upstream_id: string;
  payload: unknown;
  upstream_updated_at: Date;
}

async function ingestManySyncs(
  bench: ConsumerBench,
  provider: string,
  syncs: number,
  concurrency = 4,
): Promise<string[]> {
  const ids: string[] = [];
  let next = 0;
  const caller = async () => {
    while (next < syncs) {
      const i = next++;
      const id = await createBenchSync(bench, `${provider}-${i}`, provider);
      ids.push(id);
      const [records] = recordChunks(
        { count: recordsPerSync, firstId: i * recordsPerSync, updatedAtMs: benchEpochMs, seed: i },
        recordsPerSync,
      );
      const result = await ingest(bench.store, id, records!, { validated: true });
      if (result.accepted !== recordsPerSync)
        throw new Error(`ingest accepted ${result.accepted} of ${recordsPerSync}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, caller));
  return ids;
}

function untimed(what: string): { done(extra?: string): void } {
  const t0 = performance.now();
  process.stdout.write(`  ${what} (untimed)…`);
  return {
    done(extra = "") {
      console.log(` ${((performance.now() - t0) / 1000).toFixed(1)} s${extra}`);
    },
  };
}

async function main(): Promise<number> {
  const rss = new RssSampler(50);
  const bench = await startConsumerBench();
  const results: Timed[] = [];
  const n = flags.records;
  const providerRecords = flags.syncs * recordsPerSync;
  try {
    console.log(
      `consumer benchmark, ${new Date().toISOString().slice(0, 10)}${flags.quick ? " (--quick)" : ""}`,
    );
    for (const fact of machineFacts(bench.storeServer.version)) console.log(`  ${fact}`);
    console.log("  two servers on this machine (store, target), default durability settings");
    console.log(`  ${loadNote()}\n`);

    // ---- the main sync
    const mainFilter = { sync_id: await createBenchSync(bench, "main", "hubspot") };
    const mainSync = mainFilter.sync_id;
    let step = untimed(`ingesting ${n} records into one sync`);
    await ingestAll(bench.store, mainSync, recordChunks({ count: n, updatedAtMs: benchEpochMs }));
    step.done();

    // ---- 1. raw COPY
    step = untimed("exporting the live rows as COPY text");
    const file = await exportLiveRows(bench, mainSync);
    step.done();
    const copyTable = await createContractTable(bench, "bench_copy_baseline");
    // connected before the clock starts and closed after it stops, so the server's CPU is all counted
    const copyClient = await connectTargetUser(bench);
    const copy = await timed(bench, rss, "raw COPY into an empty table", n, async () => {
      const copied = await copyFileInto(copyClient, copyTable, file);
      if (copied !== n) throw new Error(`raw COPY: ${copied} of ${n} rows`);
    });
    await copyClient.end();
    results.push(copy);

    // ---- 2. backfill
    const backfill = await defineConsumer(bench, "bench_backfill", mainFilter);
    const table = backfill.table;
    let batchesFrom = bench.progress.batches.length;
    results.push(
      await timed(
        bench,
        rss,
        "consumer backfill",
        n,
        await runToHead(bench, backfill.id, mainFilter, "start"),
      ),
    );
    await assertTableMatchesStream(bench, table, { syncId: mainSync });
    const backfillBatches = batchSummary(bench, backfill.id, batchesFrom);

    // ---- 3. naive per-row consumer
    const naiveCount = Math.min(flags.naive, n);
    const naiveTable = await createContractTable(bench, "bench_naive");
    const naiveRows = (
      await bench.store.query<NaiveRow>(
        `select sequin_id, sync_id, collection_id, upstream_id, payload, upstream_updated_at
           from sequin_records where sync_id = $1 order by txid, position limit $2`,
        [mainSync, naiveCount],
      )
    ).rows;
    const naiveClient = await connectTargetUser(bench);
    try {
      results.push(
        await timed(bench, rss, "naive per-row upsert, autocommit", naiveCount, () =>
          naiveConsumer(naiveClient, naiveTable, naiveRows),
        ),
      );
    } finally {
      await naiveClient.end();
    }
    naiveRows.length = 0;

    // ---- 4. update pass
    await bench.consumers.pause(backfill.id);
    step = untimed(`ingesting a new version of all ${n} records`);
    await ingestAll(
      bench.store,
      mainSync,
      recordChunks({ count: n, updatedAtMs: benchEpochMs + 3_600_000, revision: 2 }),
    );
    step.done();
    batchesFrom = bench.progress.batches.length;
    results.push(
      await timed(
        bench,
        rss,
        "consumer update pass",
        n,
        await runToHead(bench, backfill.id, mainFilter, "resume"),
      ),
    );
    await assertTableMatchesStream(bench, table, { syncId: mainSync });
    const updateBatches = batchSummary(bench, backfill.id, batchesFrom);

    // ---- 5. live lag
    await settle(bench);
    const lag = await liveLag(bench, mainSync, backfill.id, table, n, flags.lagSeconds);
    await assertTableMatchesStream(bench, table, { syncId: mainSync });
    await bench.consumers.pause(backfill.id);

    // ---- 7. one sync vs many syncs of one provider
    const singleFilter = { sync_id: await createBenchSync(bench, "single", "salesforce") };
    step = untimed(`ingesting ${providerRecords} records into one sync`);
    await ingestAll(
      bench.store,
      singleFilter.sync_id,
      recordChunks({ count: providerRecords, updatedAtMs: benchEpochMs, seed: 7 }),
    );
    step.done();
    step = untimed(`creating ${flags.syncs} syncs of one provider, ${recordsPerSync} records each`);
    await ingestManySyncs(bench, "stripe", flags.syncs);
    step.done();
    // Each consumer backfills twice, in the order one sync, provider, provider, one sync, so that neither
    // profits from going second (warmer caches, smaller WAL backlog).
    const providerFilter = { provider: "stripe" };
    const pair = { single: [] as Timed[], many: [] as Timed[] };
    for (const [round, kind] of (["single", "many", "many", "single"] as const).entries()) {
      const filter = kind === "single" ? singleFilter : providerFilter;
      const consumer = await defineConsumer(bench, `bench_${kind}_${round}`, filter);
      const label = kind === "single" ? "backfill, one sync" : `backfill, provider of ${flags.syncs} syncs`;
      pair[kind].push(
        await timed(bench, rss, label, providerRecords, await runToHead(bench, consumer.id, filter, "start")),
      );
      await assertTableMatchesStream(bench, consumer.table, streamFilterOf(filter));
      await bench.consumers.pause(consumer.id);
    }
    results.push(combine(pair.single), combine(pair.many));

    // ---- report
    console.log("");
    const base = copy.records / copy.seconds;
    const pct = (cpu: number, s: number) => `${Math.round((100 * cpu) / s)}%`;
    printTable(
      ["phase", "records", "seconds", "rec/s", "vs COPY", "node", "store", "target", "RSS before→peak"],
      results.map((r) => [
        r.label,
        String(r.records),
        r.seconds.toFixed(2),
        rate(r.records / r.seconds),
        (r.records / r.seconds / base).toFixed(2),
        pct(r.nodeCpu, r.seconds),
        pct(r.storeCpu, r.seconds),
        pct(r.targetCpu, r.seconds),
        `${mb(r.rssBefore)}→${mb(r.peakRss)}`,
      ]),
    );
    console.log("node/store/target: CPU of this process and of each server, as a share of one core.");
    console.log(`backfill: ${backfillBatches}`);
    console.log(`update pass: ${updateBatches}`);
    console.log(
      `live: ${lag.records} records in ${lag.seconds.toFixed(1)} s (${rate(lag.ingestRate)} rec/s ingested); lag from ingest return to target commit p50 ${quantile(lag.visible, 0.5).toFixed(0)} ms, p99 ${quantile(lag.visible, 0.99).toFixed(0)} ms, max ${quantile(lag.visible, 1).toFixed(0)} ms; to the target transaction's start (inserted_at) p50 ${quantile(lag.started, 0.5).toFixed(0)} ms, p99 ${quantile(lag.started, 0.99).toFixed(0)} ms`,
    );
    console.log("");

    const rateOf = (label: string) => {
      const r = results.find((x) => x.label.startsWith(label))!;
      return r.records / r.seconds;
    };
    const backfillRate = rateOf("consumer backfill");
    const backfillRss = results.find((x) => x.label === "consumer backfill")!.peakRss;
    const goals: [string, string, boolean][] = [
      ["backfill ≥ 0.75× raw COPY", `${(backfillRate / base).toFixed(2)}×`, backfillRate / base >= 0.75],
      [
        "backfill ≥ 15× naive per-row consumer",
        `${(backfillRate / rateOf("naive")).toFixed(1)}×`,
        backfillRate / rateOf("naive") >= 15,
      ],
      [
        "live lag p99 < 200 ms",
        `${quantile(lag.visible, 0.99).toFixed(0)} ms`,
        quantile(lag.visible, 0.99) < 200,
      ],
      ["backfill peak RSS < 250 MB", mb(backfillRss), backfillRss < 250 * 1024 * 1024],
      [
        "provider backfill within 20% of one sync",
        `${(rateOf("backfill, provider") / rateOf("backfill, one sync")).toFixed(2)}×`,
        rateOf("backfill, provider") / rateOf("backfill, one sync") >= 0.8,
      ],
    ];
    printTable(
      ["goal", "measured", "result"],
      goals.map(([goal, measured, met]) => [goal, measured, met ? "met" : "MISSED"]),
    );
    collectGarbage();
    console.log(`\n${loadNote()}`);
    if (bench.progress.errors.length > 0)
      console.log(`consumer errors seen: ${bench.progress.errors.join("; ")}`);
    return 0;
  } catch (error) {
    console.error(error);
    return 2;
  } finally {
    rss.stop();
    await bench.close();
  }
}

process.exitCode = await main();
