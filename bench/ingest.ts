/**
 * Ingest benchmark: how fast records enter a stream, against a raw COPY of the same rows, in one run on
 * one throwaway Postgres cluster (default durability settings). See docs/benchmarks.md.
 *
 *   npm run bench:ingest
 *   npm run bench:ingest -- --records 200000 --concurrency 4 --runs 3
 *   npm run bench:ingest -- --phases http --profile prof   (a CPU profile of each phase, in ./prof)
 *
 * Phases, each on the same ~1 KB contact records:
 *   copy       raw `COPY … FROM STDIN` into a plain table shaped like sequin_records (primary key only)
 *   inprocess  ingest(pool, syncId, batch) from `concurrency` callers, 1,000 records per call
 *   http       POST /v1/syncs/{id}/records to the real server, 1,000 per body, keep-alive, `concurrency`
 *   update     in-process again on the same keys with newer timestamps: every record accepted
 *   stale      in-process again with older timestamps: every record stale, nothing written
 * Exits non-zero when a phase does not account for every record as expected.
 */
import { Agent, request } from "node:http";
import { pipeline } from "node:stream/promises";
import type pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import pino from "pino";
import { loadConfig } from "../src/config.js";
import { migrate } from "../src/db/migrate.js";
import { createStorePool } from "../src/db/pool.js";
import { startService } from "../src/service.js";
import { copyField } from "../src/stream/copy-text.js";
import { createSync, type IncomingRecord, type IngestResult, ingest, sequinId } from "../src/stream/index.js";
import {
  averageJsonBytes,
  type BenchCluster,
  benchEpochMs,
  chunk,
  contactRecords,
  loadNote,
  machineFacts,
  measure,
  median,
  type PhaseResult,
  parseFlags,
  peakProcessRss,
  printResults,
  RssSampler,
  runConcurrently,
  startBenchCluster,
  withUpdatedAt,
} from "./bench-helpers.js";

const allPhases = ["copy", "inprocess", "http", "update", "stale"] as const;
type Phase = (typeof allPhases)[number];

const labels: Record<Phase, string> = {
  copy: "raw COPY (baseline)",
  inprocess: "ingest() in-process",
  http: "HTTP POST /records",
  update: "ingest() update pass",
  stale: "ingest() stale pass",
};

const flags = parseFlags(process.argv.slice(2), {
  records: 100_000,
  concurrency: 4,
  batch: 1000,
  runs: 1,
  phases: allPhases.join(","),
  profile: "",
});
const phases = flags.phases.split(",").map((p) => p.trim()) as Phase[];
for (const p of phases) {
  if (!allPhases.includes(p))
    throw new Error(`--phases: unknown phase ${JSON.stringify(p)}; known: ${allPhases.join(", ")}`);
}
if ((phases.includes("update") || phases.includes("stale")) && !phases.includes("inprocess")) {
  // the update and stale passes need the keys the in-process phase wrote
  phases.unshift("inprocess");
}

const provider = "hubspot";
const baselineTable = "bench_copy_baseline";

/** Same columns, types and defaults as sequin_records; primary key on sequin_id, no other index, no FK. */
const baselineDdl = `create table ${baselineTable} (
  sequin_id uuid primary key,
  sync_id uuid not null,
  provider text not null,
  collection_id text not null,
  upstream_id text not null,
  payload jsonb,
  upstream_updated_at timestamptz not null,
  deleted boolean not null default false,
  txid xid8 not null default pg_current_xact_id(),
  position bigint not null default nextval('sequin_record_position'),
  changed_at timestamptz not null default now()
)`;

class Mismatch extends Error {}

function expectCounts(phase: string, got: IngestResult, want: { accepted: number; stale: number }): void {
  if (got.accepted !== want.accepted || got.stale !== want.stale) {
    throw new Mismatch(
      `${phase}: expected ${want.accepted} accepted and ${want.stale} stale, got ${got.accepted} accepted and ${got.stale} stale`,
    );
  }
}

function add(total: IngestResult, r: IngestResult): void {
  total.accepted += r.accepted;
  total.stale += r.stale;
  total.sanitized += r.sanitized;
}

/** One COPY stream of every row, built from the records while it runs (JSON, sequin id, COPY escaping). */
async function copyBaseline(pool: pg.Pool, syncId: string, records: IncomingRecord[]): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query(`truncate ${baselineTable}`);
    const stream = client.query(
      copyFrom(
        `copy ${baselineTable} (sequin_id, sync_id, provider, collection_id, upstream_id, payload, upstream_updated_at, deleted) from stdin`,
      ),
    );
    await pipeline(function* () {
      let buffer = "";
      for (const r of records) {
        buffer += `${sequinId(syncId, r.collection_id, r.upstream_id)}\t${syncId}\t${provider}\t${copyField(r.collection_id)}\t${copyField(r.upstream_id)}\t${copyField(JSON.stringify(r.payload))}\t${r.upstream_updated_at}\tf\n`;
        if (buffer.length >= 256 * 1024) {
          yield buffer;
          buffer = "";
        }
      }
      if (buffer) yield buffer;
    }, stream);
  } finally {
    client.release();
  }
}

async function ingestInProcess(
  pool: pg.Pool,
  syncId: string,
  batches: IncomingRecord[][],
  concurrency: number,
): Promise<IngestResult> {
  const total: IngestResult = { accepted: 0, stale: 0, sanitized: 0 };
  await runConcurrently(batches, concurrency, async (batch) => add(total, await ingest(pool, syncId, batch)));
  return total;
}

function post(agent: Agent, url: URL, token: string, body: Buffer): Promise<IngestResult> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: "POST",
        agent,
        headers: {
          authorization: `Bearer ${token}`,
          "content-type": "application/json",
          "content-length": body.length,
        },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => {
          text += c;
        });
        res.on("end", () => {
          if (res.statusCode !== 200) reject(new Mismatch(`HTTP ${res.statusCode}: ${text.slice(0, 500)}`));
          else resolve(JSON.parse(text) as IngestResult);
        });
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

async function ingestOverHttp(
  serviceUrl: string,
  token: string,
  syncId: string,
  bodies: Buffer[],
  concurrency: number,
): Promise<IngestResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const url = new URL(`/v1/syncs/${syncId}/records`, serviceUrl);
  const total: IngestResult = { accepted: 0, stale: 0, sanitized: 0 };
  try {
    await runConcurrently(bodies, concurrency, async (body) =>
      add(total, await post(agent, url, token, body)),
    );
  } finally {
    agent.destroy();
  }
  return total;
}

async function runOnce(
  bench: BenchCluster,
  run: number,
  records: IncomingRecord[],
  rss: RssSampler,
): Promise<PhaseResult[]> {
  const url = await bench.createDatabase(`bench_ingest_${run}`);
  const pool = createStorePool(url, { applicationName: "sequin-bench" });
  const env = { rss, serverCpuSeconds: bench.cpuSeconds, profileDir: flags.profile || undefined };
  const results: PhaseResult[] = [];
  const n = records.length;
  const batches = chunk(records, flags.batch);
  // A checkpoint before each phase, so that no phase pays for writing out the previous one's pages.
  const settle = () => pool.query("checkpoint");
  try {
    await migrate(pool);
    await pool.query(baselineDdl);
    const syncIn = (await createSync(pool, { name: "in-process", provider })).id;
    const syncHttp = (await createSync(pool, { name: "http", provider })).id;

    if (phases.includes("copy")) {
      await settle();
      results.push(await measure(labels.copy, n, () => copyBaseline(pool, syncIn, records), env));
      const { rows } = await pool.query<{ n: number }>(`select count(*)::int as n from ${baselineTable}`);
      if (rows[0]!.n !== n) throw new Mismatch(`copy: expected ${n} rows, found ${rows[0]!.n}`);
    }

    if (phases.includes("inprocess")) {
      await settle();
      let result: IngestResult | undefined;
      results.push(
        await measure(
          labels.inprocess,
          n,
          async () => {
            result = await ingestInProcess(pool, syncIn, batches, flags.concurrency);
          },
          env,
        ),
      );
      expectCounts("inprocess", result!, { accepted: n, stale: 0 });
    }

    if (phases.includes("http")) {
      const token = `bench_${"x".repeat(24)}`;
      const config = loadConfig({
        SEQUIN_DATABASE_URL: url,
        SEQUIN_HOST: "127.0.0.1",
        SEQUIN_PORT: "0",
        SEQUIN_API_TOKEN: token,
        SEQUIN_LOG_LEVEL: "silent",
      });
      const service = await startService(config, { log: pino({ level: "silent" }) });
      try {
        // Bodies are serialized and encoded before the clock starts: a real client does that on its own
        // machine. What the client still spends here (socket writes, reading replies) is in "node CPU".
        const bodies = batches.map((batch) => Buffer.from(JSON.stringify({ records: batch })));
        await settle();
        let result: IngestResult | undefined;
        results.push(
          await measure(
            labels.http,
            n,
            async () => {
              result = await ingestOverHttp(service.url, token, syncHttp, bodies, flags.concurrency);
            },
            env,
          ),
        );
        expectCounts("http", result!, { accepted: n, stale: 0 });
      } finally {
        await service.stop();
      }
    }

    if (phases.includes("update")) {
      const newer = chunk(withUpdatedAt(records, benchEpochMs + 3_600_000), flags.batch);
      await settle();
      let result: IngestResult | undefined;
      results.push(
        await measure(
          labels.update,
          n,
          async () => {
            result = await ingestInProcess(pool, syncIn, newer, flags.concurrency);
          },
          env,
        ),
      );
      expectCounts("update", result!, { accepted: n, stale: 0 });
    }

    if (phases.includes("stale")) {
      const older = chunk(withUpdatedAt(records, benchEpochMs - 3_600_000), flags.batch);
      await settle();
      let result: IngestResult | undefined;
      results.push(
        await measure(
          labels.stale,
          n,
          async () => {
            result = await ingestInProcess(pool, syncIn, older, flags.concurrency);
          },
          env,
        ),
      );
      expectCounts("stale", result!, { accepted: 0, stale: n });
    }
  } finally {
    await pool.end();
  }
  return results;
}

function medians(runs: PhaseResult[][]): PhaseResult[] {
  const baseline = runs[0]!.findIndex((r) => r.technique === labels.copy);
  return runs[0]!.map((first, i) => {
    const of = (f: (r: PhaseResult) => number) => median(runs.map((run) => f(run[i]!)));
    const seconds = of((r) => r.seconds);
    return {
      technique: first.technique,
      records: first.records,
      seconds,
      rate: of((r) => r.rate),
      nodeCpu: of((r) => r.nodeCpu / r.seconds) * seconds,
      serverCpu: of((r) => r.serverCpu / r.seconds) * seconds,
      peakRss: Math.max(...runs.map((run) => run[i]!.peakRss)),
      ...(baseline >= 0 ? { ratio: median(runs.map((run) => run[i]!.rate / run[baseline]!.rate)) } : {}),
    };
  });
}

async function main(): Promise<number> {
  const rss = new RssSampler();
  const bench = await startBenchCluster();
  try {
    const records = contactRecords(flags.records, benchEpochMs);
    console.log(`ingest benchmark, ${new Date().toISOString().slice(0, 10)}`);
    for (const fact of machineFacts(bench.version)) console.log(`  ${fact}`);
    console.log(
      `  ${flags.records} records, payload ~${averageJsonBytes(records)} bytes of JSON, batches of ${flags.batch}, concurrency ${flags.concurrency}, ${flags.runs} run(s)`,
    );
    console.log(`  RSS with the records generated: ${Math.round(rss.sample() / 1024 / 1024)} MB`);
    console.log(`  ${loadNote("before")}\n`);

    const runs: PhaseResult[][] = [];
    for (let run = 1; run <= flags.runs; run++) {
      const results = await runOnce(bench, run, records, rss);
      runs.push(results);
      console.log(`run ${run}/${flags.runs}`);
      printResults(results, labels.copy);
      console.log("");
    }
    if (flags.runs > 1) {
      console.log(
        `median of ${flags.runs} runs (vs COPY: median of the per-run ratios; peak RSS: the highest)`,
      );
      printResults(medians(runs), labels.copy);
      console.log("");
    }
    console.log(`peak RSS of this process: ${peakProcessRss()}; ${loadNote("after")}`);
    return 0;
  } catch (error) {
    console.error(error instanceof Mismatch ? `FAILED: ${error.message}` : error);
    return 1;
  } finally {
    rss.stop();
    await bench.destroy();
  }
}

process.exitCode = await main();
