/**
 * Scale benchmark: does the cost per record stay flat as the store grows? At each store size (100k, 1M
 * and 5M records by default), the same fixed-size work is measured in a store that holds that many
 * records, and compared with the first (smallest) size in the same run:
 *
 *   ingest      a new sync of `--probe` records (default 100,000), ingested in 10,000-record calls, with
 *               the WAL it wrote (bytes and full-page images per record: what a key index that outgrew the
 *               cache costs, whatever else runs on the machine)
 *   raw COPY    that sync's rows, exported as COPY text (untimed), `COPY … FROM STDIN` into an empty table
 *   backfill    a fresh consumer of that sync, from start() until its position reaches the head
 *   live lag    50 records every 50 ms (1,000 rec/s) into that consumer, for `--lag-seconds`; p99 of the
 *               time from the ingest call's return to the target commit that made each record visible
 *
 * Between sizes the store grows with filler syncs of the same records (untimed), so each size holds every
 * record ingested so far. The goal: each per-record figure within 20% of the smallest size's.
 *
 *   npm run bench:scale                           sizes 100k, 1M, 5M
 *   npm run bench:scale -- --sizes 100000,1000000,10000000
 *   npm run bench:scale -- --quick                sizes 20k, 100k with a 20k probe (a smoke run)
 */
import { benchEpochMs, loadNote, machineFacts } from "./bench-helpers.js";
import {
  assertTableMatchesStream,
  type ConsumerBench,
  connectTargetUser,
  copyFileInto,
  createBenchSync,
  createContractTable,
  defineConsumer,
  exportLiveRows,
  ingestAll,
  printTable,
  quantile,
  rate,
  recordChunks,
  settle,
  startConsumerBench,
  streamHead,
} from "./consumer-bench-helpers.js";
import { liveLag } from "./live-lag.js";

interface Flags {
  sizes: number[];
  probe: number;
  lagSeconds: number;
}

function parseFlags(argv: string[]): Flags {
  const quick = argv.includes("--quick");
  const flags: Flags = quick
    ? { sizes: [20_000, 100_000], probe: 20_000, lagSeconds: 5 }
    : { sizes: [100_000, 1_000_000, 5_000_000], probe: 100_000, lagSeconds: 15 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--quick") continue;
    const value = argv[++i] ?? "";
    const number = (text: string) => {
      const n = Number(text.replace(/_/g, ""));
      if (!Number.isInteger(n) || n < 1)
        throw new Error(`${arg} takes positive whole numbers (got ${value})`);
      return n;
    };
    if (arg === "--sizes") flags.sizes = value.split(",").map(number);
    else if (arg === "--probe") flags.probe = number(value);
    else if (arg === "--lag-seconds") flags.lagSeconds = number(value);
    else
      throw new Error(
        `unknown argument ${JSON.stringify(arg)}; flags: --quick, --sizes, --probe, --lag-seconds`,
      );
  }
  flags.sizes.sort((a, b) => a - b);
  if (flags.sizes[0]! < flags.probe)
    throw new Error(`the smallest size must hold the probe (${flags.probe})`);
  return flags;
}

interface Stage {
  size: number;
  ingest: number;
  walBytesPerRecord: number;
  pageImagesPerRecord: number;
  copy: number;
  backfill: number;
  lagP50: number;
  lagP99: number;
}

async function seconds(fn: () => Promise<unknown>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

interface WalCounters {
  bytes: number;
  fpi: number;
}

/** The store server's WAL counters (the whole server: nothing else writes to it while a phase runs). */
async function walCounters(bench: ConsumerBench): Promise<WalCounters> {
  const { rows } = await bench.store.query<{ bytes: string; fpi: string }>(
    "select wal_bytes::text as bytes, wal_fpi::text as fpi from pg_stat_wal",
  );
  return { bytes: Number(rows[0]!.bytes), fpi: Number(rows[0]!.fpi) };
}

async function storeRecords(bench: ConsumerBench): Promise<number> {
  const { rows } = await bench.store.query<{ n: string }>("select count(*)::text as n from sequin_records");
  return Number(rows[0]!.n);
}

/** Adds filler syncs (untimed) until the store holds `size - probe` records, leaving room for the probe. */
async function growTo(
  bench: ConsumerBench,
  size: number,
  probe: number,
  next: { filler: number },
): Promise<void> {
  let have = await storeRecords(bench);
  const t0 = performance.now();
  while (have + probe < size) {
    const count = Math.min(100_000, size - probe - have);
    const id = await createBenchSync(bench, `filler-${next.filler}`, "filler");
    await ingestAll(
      bench.store,
      id,
      recordChunks({ count, firstId: next.filler * 100_000, updatedAtMs: benchEpochMs, seed: next.filler }),
    );
    next.filler++;
    have += count;
    process.stdout.write(`\r  growing the store: ${have.toLocaleString("en-US")} records (untimed)`);
  }
  if (performance.now() - t0 > 100) console.log(` ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}

async function measureAt(bench: ConsumerBench, size: number, flags: Flags, index: number): Promise<Stage> {
  const probe = await createBenchSync(bench, `probe-${index}`, `probe-${index}`);
  const filter = { sync_id: probe };
  // the filler's writes (checkpoint, autovacuum) must not overlap the timed ingest
  await settle(bench);
  const walBefore = await walCounters(bench);
  const ingestSeconds = await seconds(() =>
    ingestAll(
      bench.store,
      probe,
      recordChunks({
        count: flags.probe,
        firstId: 50_000_000 + index * flags.probe,
        updatedAtMs: benchEpochMs,
      }),
    ),
  );
  const walAfter = await walCounters(bench);
  await settle(bench);

  const file = await exportLiveRows(bench, probe);
  const copyTable = await createContractTable(bench, `scale_copy_${index}`);
  const copyClient = await connectTargetUser(bench);
  const copySeconds = await seconds(async () => {
    const copied = await copyFileInto(copyClient, copyTable, file);
    if (copied !== flags.probe) throw new Error(`raw COPY: ${copied} of ${flags.probe} rows`);
  });
  await copyClient.end();
  await bench.targetAdmin.query(`drop table "${copyTable.schema}"."${copyTable.name}"`);
  await settle(bench);

  const consumer = await defineConsumer(bench, `scale_backfill_${index}`, filter);
  const head = await streamHead(bench, { syncId: probe });
  const backfillSeconds = await seconds(async () => {
    await bench.consumers.start(consumer.id);
    await bench.progress.reached(consumer.id, head);
  });
  await assertTableMatchesStream(bench, consumer.table, { syncId: probe });
  await settle(bench);

  const lag = await liveLag(bench, probe, consumer.id, consumer.table, 60_000_000, flags.lagSeconds);
  await assertTableMatchesStream(bench, consumer.table, { syncId: probe });
  await bench.consumers.pause(consumer.id);
  await bench.targetAdmin.query(`drop table "${consumer.table.schema}"."${consumer.table.name}"`);
  return {
    size,
    ingest: flags.probe / ingestSeconds,
    walBytesPerRecord: (walAfter.bytes - walBefore.bytes) / flags.probe,
    pageImagesPerRecord: (walAfter.fpi - walBefore.fpi) / flags.probe,
    copy: flags.probe / copySeconds,
    backfill: flags.probe / backfillSeconds,
    lagP50: quantile(lag.visible, 0.5),
    lagP99: quantile(lag.visible, 0.99),
  };
}

async function main(): Promise<number> {
  const flags = parseFlags(process.argv.slice(2));
  const bench = await startConsumerBench();
  try {
    console.log(`scale benchmark, ${new Date().toISOString().slice(0, 10)}`);
    for (const fact of machineFacts(bench.storeServer.version)) console.log(`  ${fact}`);
    console.log(
      `  store sizes ${flags.sizes.map((s) => s.toLocaleString("en-US")).join(", ")}; each measures a ${flags.probe.toLocaleString("en-US")}-record sync`,
    );
    console.log(`  ${loadNote()}\n`);
    const stages: Stage[] = [];
    const next = { filler: 0 };
    for (const [index, size] of flags.sizes.entries()) {
      await growTo(bench, size, flags.probe, next);
      const stage = await measureAt(bench, size, flags, index);
      stages.push(stage);
      console.log(
        `  at ${size.toLocaleString("en-US")} records: ingest ${rate(stage.ingest)} rec/s (WAL ${stage.walBytesPerRecord.toFixed(0)} bytes and ${stage.pageImagesPerRecord.toFixed(3)} page images per record), raw COPY ${rate(stage.copy)}, backfill ${rate(stage.backfill)} (${(stage.backfill / stage.copy).toFixed(2)}× COPY), live lag p99 ${stage.lagP99.toFixed(0)} ms`,
      );
    }
    const base = stages[0]!;
    console.log("");
    printTable(
      [
        "store records",
        "ingest rec/s",
        "vs first",
        "WAL B/rec",
        "page images/rec",
        "backfill rec/s",
        "× raw COPY",
        "vs first",
        "lag p50",
        "lag p99",
      ],
      stages.map((s) => [
        s.size.toLocaleString("en-US"),
        rate(s.ingest),
        (s.ingest / base.ingest).toFixed(2),
        s.walBytesPerRecord.toFixed(0),
        s.pageImagesPerRecord.toFixed(3),
        rate(s.backfill),
        (s.backfill / s.copy).toFixed(2),
        (s.backfill / base.backfill).toFixed(2),
        `${s.lagP50.toFixed(0)} ms`,
        `${s.lagP99.toFixed(0)} ms`,
      ]),
    );
    const last = stages.at(-1)!;
    const goals: [string, string, boolean][] = [
      [
        "ingest cost per record flat (≥ 0.8× the first size)",
        `${(last.ingest / base.ingest).toFixed(2)}×`,
        last.ingest / base.ingest >= 0.8,
      ],
      [
        "backfill cost per record flat (≥ 0.8× the first size)",
        `${(last.backfill / base.backfill).toFixed(2)}×`,
        last.backfill / base.backfill >= 0.8,
      ],
      [
        "live lag p99 < 50 ms at every size",
        `${Math.max(...stages.map((s) => s.lagP99)).toFixed(0)} ms`,
        stages.every((s) => s.lagP99 < 50),
      ],
    ];
    console.log("");
    printTable(
      ["goal", "measured", "result"],
      goals.map(([goal, measured, met]) => [goal, measured, met ? "met" : "MISSED"]),
    );
    console.log(`\n${loadNote()}`);
    return 0;
  } catch (error) {
    console.error(error);
    return 2;
  } finally {
    await bench.close();
  }
}

process.exitCode = await main();
