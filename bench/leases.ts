/**
 * Lease traffic: how many store writes work ownership costs. N resources (1,000 consumers by default) shared
 * by W workers (4), each running the consumer worker's ownership round every second (look at the leases,
 * hand back the excess, claim up to the fair share) and its heartbeat every beat. Each worker's store pool
 * counts the statements it sends, split into writes (insert/update/delete) and reads. After the first spread,
 * a steady window is measured: the target is one ownership write per worker per beat (its heartbeat), however
 * many leases it holds. Runners are not started: what they write is the work, not its ownership.
 *
 *   npm run bench:leases [-- --consumers 1000 --workers 4 --seconds 30]
 */
import { randomUUID } from "node:crypto";
import type pg from "pg";
import pino from "pino";
import { migrate } from "../src/db/migrate.js";
import { createStorePool } from "../src/db/pool.js";
import { WorkOwnership } from "../src/work/index.js";
import { loadNote, machineFacts, parseFlags, startBenchCluster } from "./bench-helpers.js";

const flags = parseFlags(process.argv.slice(2), { consumers: 1000, workers: 4, seconds: 30 });
const leaseSeconds = 15;
const beatMs = 1000;
const roundMs = 1000;

interface Counts {
  writes: number;
  reads: number;
}

/** A pool whose `query` counts what it sends (the ownership module only uses `pool.query`). */
function counting(pool: pg.Pool, counts: Counts): pg.Pool {
  return new Proxy(pool, {
    get(target, prop) {
      if (prop !== "query") return Reflect.get(target, prop);
      return (...args: unknown[]) => {
        const text = String(typeof args[0] === "string" ? args[0] : (args[0] as { text: string }).text);
        if (/^\s*(insert|update|delete|with\b[\s\S]*\b(insert|update|delete)\b)/i.test(text)) counts.writes++;
        else counts.reads++;
        return (target.query as (...a: unknown[]) => unknown)(...args);
      };
    },
  });
}

interface BenchWorker {
  ownership: WorkOwnership;
  counts: Counts;
  held: Set<string>;
}

/** The consumer worker's ownership round, without runners. */
async function round(w: BenchWorker, ids: string[]): Promise<void> {
  const plan = await w.ownership.plan("consumer", ids);
  if (plan.release.length > 0) await w.ownership.release("consumer", plan.release);
  for (const id of plan.release) w.held.delete(id);
  for (const id of plan.held.keys()) w.held.add(id);
  for (const id of w.held) if (!plan.held.has(id)) w.held.delete(id);
  if (plan.claim.length > 0)
    for (const id of (await w.ownership.claim("consumer", plan.claim)).keys()) w.held.add(id);
}

const bench = await startBenchCluster();
try {
  console.log(machineFacts(bench.version).join("\n"));
  console.log(loadNote("before"));
  console.log(
    `${flags.consumers.toLocaleString("en-US")} consumers over ${flags.workers} workers; lease ${leaseSeconds} s, a beat every ${beatMs} ms, an ownership round every ${roundMs} ms`,
  );
  const storeUrl = await bench.createDatabase("leases_bench");
  const admin = createStorePool(storeUrl, { max: 2, applicationName: "sequin-bench" });
  await migrate(admin);
  const ids = Array.from({ length: flags.consumers }, () => randomUUID()).sort();
  const log = pino({ level: "silent" });
  const pools: pg.Pool[] = [];
  const workers: BenchWorker[] = [];
  for (let i = 0; i < flags.workers; i++) {
    const pool = createStorePool(storeUrl, { max: 2, applicationName: "sequin-bench" });
    pools.push(pool);
    const counts = { writes: 0, reads: 0 };
    const ownership = new WorkOwnership(counting(pool, counts), "worker", { leaseSeconds, beatMs }, log);
    workers.push({ ownership, counts, held: new Set() });
  }
  await Promise.all(workers.map((w) => w.ownership.start()));
  let running = true;
  const loops = workers.map(async (w) => {
    while (running) {
      await round(w, ids);
      await new Promise((resolve) => setTimeout(resolve, roundMs));
    }
  });
  // the first spread
  const spreadStarted = Date.now();
  const share = Math.ceil(flags.consumers / flags.workers);
  while (!workers.every((w) => w.held.size === share || w.held.size === share - 1)) {
    if (Date.now() - spreadStarted > 60_000) throw new Error("no even spread within 60 s");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const spreadSeconds = (Date.now() - spreadStarted) / 1000;
  const spreadWrites = workers.reduce((n, w) => n + w.counts.writes, 0);
  console.log(
    `first spread: ${workers.map((w) => w.held.size).join("/")} after ${spreadSeconds.toFixed(1)} s, ${spreadWrites} ownership writes in all`,
  );
  // the steady window
  for (const w of workers) {
    w.counts.writes = 0;
    w.counts.reads = 0;
  }
  const windowStarted = Date.now();
  await new Promise((resolve) => setTimeout(resolve, flags.seconds * 1000));
  const windowSeconds = (Date.now() - windowStarted) / 1000;
  const snapshot = workers.map((w) => ({ ...w.counts, held: w.held.size }));
  running = false;
  await Promise.all(loops);
  const beats = windowSeconds / (beatMs / 1000);
  console.log(`steady window: ${windowSeconds.toFixed(1)} s, ${beats.toFixed(1)} beats per worker`);
  let worst = 0;
  snapshot.forEach((s, i) => {
    const perBeat = s.writes / beats;
    worst = Math.max(worst, perBeat);
    console.log(
      `  worker ${i + 1}: ${s.held} leases, ${s.writes} ownership writes (${perBeat.toFixed(2)} per beat), ${s.reads} reads (${(s.reads / (windowSeconds / (roundMs / 1000))).toFixed(2)} per round)`,
    );
  });
  console.log(
    `ownership writes per worker per beat, worst: ${worst.toFixed(2)} (target <= 1) ${worst <= 1.05 ? "OK" : "OVER"}`,
  );
  console.log(loadNote("after"));
  await Promise.all(workers.map((w) => w.ownership.stop()));
  await Promise.all(pools.map((p) => p.end()));
  await admin.end();
  if (worst > 1.05) process.exitCode = 1;
} finally {
  await bench.destroy();
}
