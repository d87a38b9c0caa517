/**
 * Salesforce sources benchmark: a backfill of 50,000 records (40,000 Accounts, 10,000 Contacts, stamped
 * over the past year) at the default allotment (1/3 request a second: 28,800 a day), against the theoretical
 * minimum of the same run (query batches of 2,000, plus the credential check, the change mark and one
 * describe per collection, ÷ the allotment); then the live latency of a change made in the emulator until it
 * is in the stream, at the default poll interval. A real SourceWorker in this process, on a throwaway store.
 * Prints one row. Exits non-zero when the stream is not exact (every live record there, its payload equal to
 * the emulator's) or the allotment was exceeded.
 *
 *   node --import tsx bench/sources-salesforce.ts                  50,000 records, the default allotment
 *   node --import tsx bench/sources-salesforce.ts --quick          4,000 records, 5 changes: a smoke run
 *   node --import tsx bench/sources-salesforce.ts --records 20000 --rate 2 --changes 20
 */
import { salesforceKind } from "../src/sources/salesforce/salesforce-kind.js";
import { startSalesforceEmulator } from "../test/emulators/salesforce/index.js";
import { seededRandom } from "./bench-helpers.js";
import {
  allotment,
  busiestAgainstAllotment,
  differences,
  fmt,
  liveLatencies,
  parseFlags,
  positiveNumber,
  report,
  wholeNumber,
  withSourceBench,
} from "./source-bench.js";

const pageSize = 2000;

async function main(): Promise<number> {
  const flags = parseFlags(process.argv.slice(2), [
    { name: "records", default: 50_000, quickDefault: 4_000, parse: wholeNumber },
    {
      name: "rate",
      default: salesforceKind.defaultRequestsPerSecond,
      parse: allotment(salesforceKind.maxRequestsPerSecond, positiveNumber),
    },
    { name: "changes", default: 15, quickDefault: 5, parse: wholeNumber },
  ]);
  const emulator = await startSalesforceEmulator();
  const split = {
    Account: Math.round(flags.records * 0.8),
    Contact: flags.records - Math.round(flags.records * 0.8),
  };
  const collections = Object.keys(split);
  const random = seededRandom(5);
  const fill = () => {
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
  };
  try {
    return await withSourceBench("Salesforce", fill, async ({ store, backfill }) => {
      const pages = Object.values(split).reduce((sum, k) => sum + Math.max(1, Math.ceil(k / pageSize)), 0);
      // query batches, the credential check, the change mark and one describe per collection
      const minimumRequests = pages + 2 + collections.length;

      const token = emulator.session();
      const { syncId, seconds } = await backfill({
        provider: "salesforce",
        collections,
        config: {
          credentials: { access_token: token },
          base_url: emulator.instanceUrl,
          max_requests_per_second: flags.rate,
        },
        records: flags.records,
      });
      const backfillRequests = emulator.requests.filter((r) => r.token === token).length;

      // live latency: a change at a random point of the poll cycle, until its new name is in the stream
      const ids = emulator
        .all("Account")
        .slice(0, flags.changes)
        .map((r) => r.Id as string);
      const latencies = await liveLatencies({
        changes: ids.length,
        pauseMs: () => random() * 3000,
        make: (i) => {
          const id = ids[i]!;
          const name = `latency ${i}`;
          emulator.update("Account", id, { Name: name });
          return { key: id, name };
        },
        arrived: async (pending) => {
          const { rows } = await store.query<{ upstream_id: string; name: string | null }>(
            "select upstream_id, payload->>'Name' as name from sequin_records where sync_id = $1 and upstream_id = any($2)",
            [syncId, pending.map((change) => change.key)],
          );
          const names = new Map(rows.map((row) => [row.upstream_id, row.name]));
          return pending.filter((change) => names.get(change.key) === change.name);
        },
        oneAtATime: true,
        timeoutMs: 120_000,
      });
      const ours = emulator.requests.filter((r) => r.token === token);
      return report({
        provider: "salesforce",
        records: flags.records,
        rate: flags.rate,
        backfill: { seconds, requests: backfillRequests },
        minimum: {
          seconds: minimumRequests / flags.rate,
          requests: minimumRequests,
          note: `${pages} batches of ${fmt(pageSize)}`,
        },
        latencies,
        liveNote: `poll ${salesforceKind.defaultPollIntervalSeconds} s, one change at a time`,
        busiest: busiestAgainstAllotment(ours, flags.rate),
        wrong: await differences(
          store,
          syncId,
          Object.fromEntries(collections.map((object) => [object, emulator.all(object)])),
          (record) => String(record.Id),
        ),
      });
    });
  } finally {
    await emulator.close();
  }
}

process.exitCode = await main();
