/**
 * GitHub sources benchmark: a backfill of 50,000 records (issues, pull requests, issue comments in two
 * repositories) at the default allotment, against the minimum that allotment allows (records ÷ 100 a page
 * ÷ requests per second), and then the live latency: changes made in the emulator one a second (issue
 * edits, new comments, pull request edits), each timed until the stream holds it, at the default poll
 * interval. A real SourceWorker runs in this process on a throwaway store, against the GitHub emulator.
 *
 *   node --import tsx bench/sources-github.ts                     50,000 records, the default allotment
 *   node --import tsx bench/sources-github.ts --quick             2,000 records, 15 changes: a smoke run
 *   node --import tsx bench/sources-github.ts --records 20000 --rate 5 --changes 30
 *
 * Prints one row; exits non-zero when the stream is not exact after the changes or the allotment was
 * exceeded in some second.
 */
import { randomBytes } from "node:crypto";
import type pg from "pg";
import pino from "pino";
import { migrate } from "../src/db/migrate.js";
import { createStorePool } from "../src/db/pool.js";
import { withTransaction } from "../src/db/transaction.js";
import { githubKind } from "../src/sources/github/github-kind.js";
import { Sources, SourceWorker } from "../src/sources/index.js";
import { createSync } from "../src/stream/index.js";
import { Vault } from "../src/vault/index.js";
import { beatMsFor, WorkOwnership } from "../src/work/index.js";
import { busiestWindow, type GithubEmulator, startGithubEmulator } from "../test/emulators/github/index.js";
import { loadNote, machineFacts, startBenchCluster } from "./bench-helpers.js";

interface Flags {
  records: number;
  rate: number;
  changes: number;
}

function parseFlags(argv: string[]): Flags {
  const quick = argv.includes("--quick");
  const flags: Flags = {
    records: quick ? 2_000 : 50_000,
    rate: githubKind.defaultRequestsPerSecond,
    changes: quick ? 15 : 60,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--quick") continue;
    const value = argv[++i] ?? "";
    const n = Number(value.replace(/_/g, ""));
    if (!Number.isInteger(n) || n < 0) throw new Error(`${arg} must be a whole number (got ${value})`);
    if (arg === "--records") flags.records = n;
    else if (arg === "--rate") flags.rate = n;
    else if (arg === "--changes") flags.changes = n;
    else
      throw new Error(
        `unknown argument ${JSON.stringify(arg)}; flags: --quick, --records, --rate, --changes`,
      );
  }
  if (flags.rate < 1 || flags.rate > githubKind.maxRequestsPerSecond)
    throw new Error(`--rate: from 1 to ${githubKind.maxRequestsPerSecond} requests per second`);
  return flags;
}

const repositories = ["bench-org/api", "bench-org/web"];
const collections = ["issue", "pull_request", "issue_comment"] as const;

/** 80% issues, 10% pull requests, 10% comments, half in each repository, made over the past days. */
function fill(emulator: GithubEmulator, total: number): Map<string, number> {
  const pulls = Math.round(total * 0.1);
  const comments = Math.round(total * 0.1);
  const issues = total - pulls - comments;
  const start = emulator.clock.nowMs() - 30 * 86_400_000;
  // one item every few seconds of history: many share nothing, some share a second
  const step = Math.floor((29 * 86_400_000) / total);
  let at = start;
  const tick = (): number => {
    at += step;
    return at;
  };
  for (const repository of repositories) emulator.createRepository(repository);
  for (let i = 0; i < issues; i++)
    emulator.createIssue(
      repositories[i % 2]!,
      { title: `Issue ${i}`, body: `Body of issue ${i}` },
      { at: tick() },
    );
  for (let i = 0; i < pulls; i++)
    emulator.createPull(repositories[i % 2]!, { title: `Change ${i}` }, { at: tick() });
  for (let i = 0; i < comments; i++)
    emulator.createComment(repositories[i % 2]!, 1 + ((i >> 1) % 500), `Comment ${i}`, { at: tick() });
  return new Map([
    ["issue", issues],
    ["pull_request", pulls],
    ["issue_comment", comments],
  ]);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(200);
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0
    ? Number.NaN
    : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Records of the stream that differ from the emulator's live ones (missing, extra or stale). */
async function differences(store: pg.Pool, syncId: string, emulator: GithubEmulator): Promise<number> {
  const live = {
    issue: repositories.flatMap((r) => emulator.issues(r)),
    pull_request: repositories.flatMap((r) => emulator.pulls(r)),
    issue_comment: repositories.flatMap((r) => emulator.comments(r)),
  };
  let wrong = 0;
  for (const collection of collections) {
    const { rows } = await store.query<{ upstream_id: string; payload: unknown }>(
      "select upstream_id, payload from sequin_records where sync_id = $1 and collection_id = $2 and not deleted",
      [syncId, collection],
    );
    const stream = new Map(rows.map((r) => [r.upstream_id, JSON.stringify(sortKeys(r.payload))]));
    wrong += Math.abs(stream.size - live[collection].length);
    for (const object of live[collection])
      if (stream.get(String(object.id)) !== JSON.stringify(sortKeys(object))) wrong += 1;
  }
  return wrong;
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value !== "object" || value === null) return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
  );
}

async function main(): Promise<number> {
  const flags = parseFlags(process.argv.slice(2));
  const server = await startBenchCluster();
  const log = pino({ level: "warn" }, pino.destination(2));
  const emulator = await startGithubEmulator();
  let worker: SourceWorker | undefined;
  let ownership: WorkOwnership | undefined;
  let store: pg.Pool | undefined;
  try {
    console.log(`sources benchmark (GitHub), ${new Date().toISOString().slice(0, 10)}`);
    for (const fact of machineFacts(server.version)) console.log(`  ${fact}`);
    console.log(`  ${loadNote("before")}`);
    const counts = fill(emulator, flags.records);
    store = createStorePool(await server.createDatabase("sequin"), { applicationName: "sequin-bench" });
    await migrate(store);
    const sources = new Sources({ pool: store, vault: Vault.fromKey(randomBytes(32)) });
    ownership = new WorkOwnership(store, "worker", { leaseSeconds: 15, beatMs: beatMsFor(15) }, log);
    worker = new SourceWorker({ store, sources, ownership, log });
    await ownership.start();
    await worker.start();

    // the minimum the allotment allows: every record once, 100 a page
    const minimumRequests = Math.ceil(flags.records / 100);
    const minimumSeconds = minimumRequests / flags.rate;
    // what GitHub's lists make us read: /issues lists pull requests too, each repository's lists end on
    // a page of their own; plus the credential check (one a repository) and the change mark (three)
    const perRepository = (n: number) =>
      repositories.length * Math.max(1, Math.ceil(n / repositories.length / 100));
    const listPages =
      perRepository(counts.get("issue")! + counts.get("pull_request")!) +
      perRepository(counts.get("pull_request")!) +
      perRepository(counts.get("issue_comment")!);

    const token = emulator.createToken();
    const started = performance.now();
    const prepared = await sources.prepare("github", [...collections], {
      credentials: { token },
      settings: { repositories },
      base_url: emulator.baseUrl,
      max_requests_per_second: flags.rate,
    });
    const sync = await withTransaction(store, async (client) => {
      const created = await createSync(client, {
        name: "github-bench",
        provider: "github",
        collections: prepared.collections,
      });
      await sources.insert(client, created.id, prepared);
      return created;
    });
    await worker.poke();
    await waitUntil(
      "the backfill",
      async () => {
        const done = await store!.query<{ done: boolean }>(
          "select bool_and(backfill_done) as done from sequin_source_collections where sync_id = $1",
          [sync.id],
        );
        if (done.rows[0]!.done !== true) return false;
        const { rows } = await store!.query<{ live: string }>(
          "select count(*)::text as live from sequin_records where sync_id = $1 and not deleted",
          [sync.id],
        );
        return Number(rows[0]!.live) === flags.records;
      },
      60 * 60_000,
    );
    const backfillSeconds = (performance.now() - started) / 1000;
    const backfillRequests = emulator.requests.filter((r) => r.token === token).length;

    // live: one change a second (an issue edited, a comment added, a pull request edited), each timed
    const pending = new Map<string, { at: number; field: string; expect: string }>();
    const latencies: number[] = [];
    const watcher = (async () => {
      while (pending.size > 0 || latencies.length < flags.changes) {
        if (pending.size > 0) {
          const { rows } = await store!.query<{
            upstream_id: string;
            title: string | null;
            body: string | null;
          }>(
            "select upstream_id, payload->>'title' as title, payload->>'body' as body from sequin_records where sync_id = $1 and upstream_id = any($2)",
            [sync.id, [...pending.keys()]],
          );
          for (const row of rows) {
            const wanted = pending.get(row.upstream_id);
            if (!wanted) continue;
            if ((wanted.field === "title" ? row.title : row.body) === wanted.expect) {
              latencies.push(Date.now() - wanted.at);
              pending.delete(row.upstream_id);
            }
          }
        }
        await sleep(50);
      }
    })();
    for (let i = 0; i < flags.changes; i++) {
      const repository = repositories[i % 2]!;
      const at = Date.now();
      const marker = `bench change ${i}`;
      if (i % 3 === 0) {
        const issues = emulator.issues(repository);
        const issue = emulator.updateIssue(repository, issues[(i * 7919) % issues.length]!.number as number, {
          title: marker,
        });
        pending.set(String(issue.id), { at, field: "title", expect: marker });
      } else if (i % 3 === 1) {
        const issues = emulator.issues(repository);
        const comment = emulator.createComment(
          repository,
          issues[(i * 104_729) % issues.length]!.number as number,
          marker,
        );
        pending.set(String(comment.id), { at, field: "body", expect: marker });
      } else {
        const pulls = emulator.pulls(repository);
        const number = pulls[(i * 31) % pulls.length]!.number as number;
        emulator.updatePull(repository, number, { title: marker });
        pending.set(String(emulator.pulls(repository).find((p) => p.number === number)!.id), {
          at,
          field: "title",
          expect: marker,
        });
      }
      await sleep(1000);
    }
    // a deadline that does not keep the process alive once the changes are in
    let deadline: NodeJS.Timeout | undefined;
    await Promise.race([
      watcher,
      new Promise((_, reject) => {
        deadline = setTimeout(
          () => reject(new Error(`${pending.size} changes never reached the stream`)),
          10 * 60_000,
        );
      }),
    ]).finally(() => clearTimeout(deadline));
    // the issues whose comments were added changed too: let the last poll bring them in
    await waitUntil(
      "the stream to equal GitHub",
      async () => (await differences(store!, sync.id, emulator)) === 0,
      120_000,
    ).catch(() => {});
    const wrong = await differences(store, sync.id, emulator);
    const ours = emulator.requests.filter((r) => r.token === token);
    const busiest = busiestWindow(ours, 1000);
    const notModified = ours.filter((r) => r.status === 304).length;
    latencies.sort((a, b) => a - b);
    const poll = githubKind.defaultPollIntervalSeconds;
    console.log(
      [
        "github",
        `${flags.records.toLocaleString("en-US")} records`,
        `allotment ${flags.rate}/s`,
        `backfill ${backfillSeconds.toFixed(1)} s (${backfillRequests} requests; ${listPages} list pages)`,
        `minimum ${minimumSeconds.toFixed(1)} s (${minimumRequests} requests: ${flags.records} records ÷ 100 a page)`,
        `ratio ${(backfillSeconds / minimumSeconds).toFixed(2)}x`,
        `live p50 ${(percentile(latencies, 50) / 1000).toFixed(1)} s p99 ${(percentile(latencies, 99) / 1000).toFixed(1)} s over ${latencies.length} changes (poll ${poll} s, ${repositories.length} repositories × ${collections.length} collections a poll)`,
        `busiest second ${busiest}`,
        `304s ${notModified} of ${ours.length}`,
        `stream ${wrong === 0 ? "exact" : `${wrong} wrong`}`,
      ].join(" | "),
    );
    console.log(`  ${loadNote("after")}`);
    return wrong === 0 && busiest <= flags.rate ? 0 : 1;
  } finally {
    await worker?.stop();
    await ownership?.stop();
    await store?.end();
    await emulator.close();
    await server.destroy();
  }
}

process.exitCode = await main();
