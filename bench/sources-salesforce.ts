/**
 * Salesforce sources benchmark: a backfill of 50,000 records (40,000 Accounts, 10,000 Contacts, stamped
 * over the past year) at the default allotment (1/3 request a second: 28,800 a day), against the theoretical
 * minimum of the same run (query batches of 2,000, plus the credential check, the change mark and one
 * describe per collection, ÷ the allotment); then the live latency of a change made in the emulator until it
 * is in the stream, at the default poll interval. A real SourceWorker in this process, on a throwaway store.
 * Prints one row. Exits non-zero when the stream is not exact or the allotment was exceeded.
 *
 *   node --import tsx bench/sources-salesforce.ts                  50,000 records, the default allotment
 *   node --import tsx bench/sources-salesforce.ts --quick          4,000 records, 5 changes: a smoke run
 *   node --import tsx bench/sources-salesforce.ts --records 20000 --rate 2 --changes 20
 */
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import pino from "pino";
import { migrate } from "../src/db/migrate.js";
import { createStorePool } from "../src/db/pool.js";
import { withTransaction } from "../src/db/transaction.js";
import { Sources, SourceWorker } from "../src/sources/index.js";
import { salesforceKind } from "../src/sources/salesforce/salesforce-kind.js";
import { createSync } from "../src/stream/index.js";
import { Vault } from "../src/vault/index.js";
import { beatMsFor, WorkOwnership } from "../src/work/index.js";
import { busiestWindow, startSalesforceEmulator } from "../test/emulators/salesforce/index.js";
import { loadNote, machineFacts, seededRandom, startBenchCluster } from "./bench-helpers.js";

interface Flags {
  records: number;
  rate: number;
  changes: number;
}

function parseFlags(argv: string[]): Flags {
  const quick = argv.includes("--quick");
  const flags: Flags = {
    records: quick ? 4_000 : 50_000,
    rate: salesforceKind.defaultRequestsPerSecond,
    changes: quick ? 5 : 15,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--quick") continue;
    const value = argv[++i] ?? "";
    const n = Number(value.replace(/_/g, ""));
    if (!(n > 0)) throw new Error(`${arg} must be a positive number (got ${value})`);
    if (arg === "--records") flags.records = Math.round(n);
    else if (arg === "--rate") flags.rate = n;
    else if (arg === "--changes") flags.changes = Math.round(n);
    else
      throw new Error(
        `unknown argument ${JSON.stringify(arg)}; flags: --quick, --records, --rate, --changes`,
      );
  }
  if (flags.rate > salesforceKind.maxRequestsPerSecond)
    throw new Error(
      `--rate: a sync may ask for at most ${salesforceKind.maxRequestsPerSecond} requests per second`,
    );
  return flags;
}

const fmt = (n: number) => n.toLocaleString("en-US");
const pageSize = 2000;

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(50);
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * p) - 1)]!;
}

async function main(): Promise<number> {
  const flags = parseFlags(process.argv.slice(2));
  const server = await startBenchCluster();
  const log = pino({ level: "warn" }, pino.destination(2));
  const emulator = await startSalesforceEmulator();
  let worker: SourceWorker | undefined;
  let ownership: WorkOwnership | undefined;
  const storeUrl = await server.createDatabase("sequin");
  const store = createStorePool(storeUrl, { applicationName: "sequin-bench" });
  try {
    console.log(`sources benchmark (Salesforce), ${new Date().toISOString().slice(0, 10)}`);
    for (const fact of machineFacts(server.version)) console.log(`  ${fact}`);
    console.log(`  ${loadNote("before")}`);
    const split = {
      Account: Math.round(flags.records * 0.8),
      Contact: flags.records - Math.round(flags.records * 0.8),
    };
    const random = seededRandom(5);
    const yearAgo = Date.now() - 365 * 86_400_000;
    for (const [object, count] of Object.entries(split))
      for (let i = 0; i < count; i++) {
        const at = yearAgo + Math.floor((365 * 86_400_000 * i) / count) - 86_400_000;
        emulator.create(
          object,
          object === "Account"
            ? {
                Name: `Account ${i}`,
                Industry: random() < 0.5 ? "Retail" : "Energy",
                AnnualRevenue: Math.floor(random() * 1e7),
                BillingCity: "Lyon",
              }
            : { FirstName: `First ${i}`, LastName: `Last ${i}`, Email: `contact${i}@example.com` },
          { at },
        );
      }
    await migrate(store);
    const collections = Object.keys(split);
    const pages = Object.values(split).reduce((sum, k) => sum + Math.max(1, Math.ceil(k / pageSize)), 0);
    const minimumRequests = pages + 2 + collections.length;
    const minimumSeconds = minimumRequests / flags.rate;

    const sources = new Sources({ pool: store, vault: Vault.fromKey(randomBytes(32)) });
    ownership = new WorkOwnership(store, "worker", { leaseSeconds: 15, beatMs: beatMsFor(15) }, log);
    worker = new SourceWorker({ store, sources, ownership, log });
    await ownership.start();
    await worker.start();
    const token = emulator.session();
    const started = performance.now();
    const prepared = await sources.prepare("salesforce", collections, {
      credentials: { access_token: token },
      base_url: emulator.instanceUrl,
      max_requests_per_second: flags.rate,
    });
    const sync = await withTransaction(store, async (client) => {
      const created = await createSync(client, {
        name: "salesforce-bench",
        provider: "salesforce",
        collections: prepared.collections,
      });
      await sources.insert(client, created.id, prepared);
      return created;
    });
    await worker.poke();
    const live = async () =>
      Number(
        (
          await store.query<{ live: string }>(
            "select count(*)::text as live from sequin_records where sync_id = $1 and not deleted",
            [sync.id],
          )
        ).rows[0]!.live,
      );
    await waitUntil(
      "the backfill",
      async () => {
        const done = await store.query<{ done: boolean }>(
          "select bool_and(backfill_done) as done from sequin_source_collections where sync_id = $1",
          [sync.id],
        );
        return done.rows[0]!.done === true && (await live()) === flags.records;
      },
      60 * 60_000,
    );
    const backfillSeconds = (performance.now() - started) / 1000;
    const backfillRequests = emulator.requests.filter((r) => r.token === token).length;

    // live latency: a change at a random point of the poll cycle, until its new name is in the stream
    const ids = emulator
      .all("Account")
      .slice(0, flags.changes)
      .map((r) => r.Id as string);
    const latencies: number[] = [];
    for (const [i, id] of ids.entries()) {
      await sleep(random() * 3000);
      const name = `latency ${i}`;
      emulator.update("Account", id, { Name: name });
      const at = performance.now();
      await waitUntil(
        `change ${i}`,
        async () =>
          (
            await store.query(
              "select 1 from sequin_records where sync_id = $1 and upstream_id = $2 and payload->>'Name' = $3",
              [sync.id, id, name],
            )
          ).rows.length === 1,
        120_000,
      );
      latencies.push(performance.now() - at);
    }
    latencies.sort((a, b) => a - b);
    const ours = emulator.requests.filter((r) => r.token === token);
    const busiest = busiestWindow(ours, Math.max(1000, 1000 / flags.rate));
    const perWindow = flags.rate >= 1 ? Math.floor(flags.rate) : 1;
    const exact = (await live()) === flags.records;
    console.log(`  ${loadNote("after")}\n`);
    console.log(
      [
        "records",
        "allotment",
        "backfill",
        "minimum",
        "ratio",
        "requests",
        "live p50",
        "live p99",
        "busiest window",
        "exact",
      ].join(" | "),
    );
    console.log(
      [
        fmt(flags.records),
        `${flags.rate.toFixed(3)}/s`,
        `${backfillSeconds.toFixed(1)} s`,
        `${minimumSeconds.toFixed(1)} s (${minimumRequests} requests: ${pages} batches of ${fmt(pageSize)})`,
        `${(backfillSeconds / minimumSeconds).toFixed(2)}x`,
        `${backfillRequests}`,
        `${(percentile(latencies, 0.5) / 1000).toFixed(1)} s`,
        `${(percentile(latencies, 0.99) / 1000).toFixed(1)} s`,
        `${busiest} of ${perWindow}`,
        exact ? "yes" : "NO",
      ].join(" | "),
    );
    return exact && busiest <= perWindow ? 0 : 1;
  } finally {
    await worker?.stop();
    await ownership?.stop();
    await store.end();
    await emulator.close();
    await server.destroy();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
