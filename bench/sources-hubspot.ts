/**
 * HubSpot sources benchmark: a backfill of 50,000 records (contacts, companies, deals, tickets) at the
 * default allotment, against the minimum that allotment allows (list pages of 100, plus one properties read
 * per object type, the credential check and the change mark, ÷ requests per second), and then the live
 * latency: changes made in the emulator one a second for a minute, each timed until the stream holds it,
 * at the default poll interval with the search index lagging behind (HubSpot's search is eventually
 * consistent). A real SourceWorker runs in this process on a throwaway store, against the HubSpot emulator.
 *
 *   node --import tsx bench/sources-hubspot.ts                     50,000 records, the default allotment
 *   node --import tsx bench/sources-hubspot.ts --quick             2,000 records, 15 changes: a smoke run
 *   node --import tsx bench/sources-hubspot.ts --records 20000 --rate 10 --changes 30 --lag 2000
 *
 * Prints one row; exits non-zero when the stream is not exact after the changes or the allotment was
 * exceeded in some second.
 */
import type pg from "pg";
import { hubspotKind } from "../src/sources/hubspot/hubspot-kind.js";
import {
  type HubSpotEmulator,
  type Properties,
  startHubSpotEmulator,
} from "../test/emulators/hubspot/index.js";
import {
  allotment,
  busiestAgainstAllotment,
  differences,
  liveLatencies,
  parseFlags,
  positiveWholeNumber,
  report,
  wholeNumber,
  withSourceBench,
} from "./source-bench.js";

const types = [
  ["contacts", 0.5],
  ["companies", 0.2],
  ["deals", 0.2],
  ["tickets", 0.1],
] as const;
type ObjectType = (typeof types)[number][0];

function fill(emulator: HubSpotEmulator, total: number): Map<ObjectType, number> {
  const counts = new Map<ObjectType, number>();
  let left = total;
  types.forEach(([type, share], i) => {
    const n = i === types.length - 1 ? left : Math.round(total * share);
    left -= n;
    counts.set(type, n);
    // history older than the benchmark: a day ago
    const at = emulator.clock.nowMs() - 86_400_000;
    for (let k = 0; k < n; k++) {
      const properties: Properties =
        type === "contacts"
          ? {
              email: `c${k}@example.com`,
              firstname: `First ${k}`,
              lastname: `Last ${k}`,
              phone: `+1 555 ${k}`,
            }
          : type === "companies"
            ? { name: `Company ${k}`, domain: `c${k}.example.com`, city: "Lisbon" }
            : type === "deals"
              ? { dealname: `Deal ${k}`, amount: String(k * 10), dealstage: "appointmentscheduled" }
              : { subject: `Ticket ${k}`, content: "Cannot sign in", hs_ticket_priority: "HIGH" };
      emulator.create(type, properties, { at });
    }
  });
  return counts;
}

/** The stream's differences from HubSpot's live records of every type. */
const differencesFrom = (store: pg.Pool, syncId: string, emulator: HubSpotEmulator) =>
  differences(store, syncId, Object.fromEntries(types.map(([type]) => [type, emulator.all(type)])));

async function main(): Promise<number> {
  const flags = parseFlags(process.argv.slice(2), [
    { name: "records", default: 50_000, quickDefault: 2_000, parse: wholeNumber },
    {
      name: "rate",
      default: hubspotKind.defaultRequestsPerSecond,
      parse: allotment(hubspotKind.maxRequestsPerSecond, positiveWholeNumber),
    },
    { name: "changes", default: 60, quickDefault: 15, parse: wholeNumber },
    { name: "lag", default: 2000, parse: wholeNumber },
  ]);
  const emulator = await startHubSpotEmulator();
  try {
    // HubSpot's own limits at the allotment's scale: going over them would show as 429s
    emulator.setLimits({ tenSecondly: 10 * flags.rate, searchPerSecond: 5 });
    emulator.setIndexLag(flags.lag);
    return await withSourceBench(
      "HubSpot",
      () => fill(emulator, flags.records),
      async ({ store, backfill }, counts) => {
        const pages = [...counts.values()].reduce((sum, n) => sum + Math.max(1, Math.ceil(n / 100)), 0);
        // list pages, one properties read per type, the credential check and the change mark
        const minimumRequests = pages + types.length + 2;

        const token = emulator.createPrivateApp();
        const { syncId, seconds } = await backfill({
          provider: "hubspot",
          collections: types.map(([type]) => type),
          config: {
            credentials: { access_token: token },
            base_url: emulator.baseUrl,
            max_requests_per_second: flags.rate,
          },
          records: flags.records,
        });
        const backfillRequests = emulator.requests.filter((r) => r.install === token).length;

        // live: one change a second, alternating updates, creations and archives, each timed into the stream
        const latencies = await liveLatencies({
          changes: flags.changes,
          pauseMs: (i) => (i === 0 ? 0 : 1000),
          make: (i) => {
            const [type] = types[i % types.length]!;
            const live = emulator.all(type);
            if (i % 5 === 4) {
              const id = live[(i * 7919) % live.length]!.id as string;
              emulator.archive(type, id);
              return { key: `${type}/${id}`, id, expect: null };
            }
            const object =
              i % 5 === 3
                ? emulator.create(type, {})
                : emulator.update(type, live[(i * 104_729) % live.length]!.id as string, {
                    hubspot_owner_id: String(70_000 + i),
                  });
            const id = object.id as string;
            return { key: `${type}/${id}`, id, expect: object.updatedAt as string };
          },
          arrived: async (pending) => {
            const { rows } = await store.query<{
              collection_id: string;
              upstream_id: string;
              updated: string | null;
              deleted: boolean;
            }>(
              "select collection_id, upstream_id, payload->>'updatedAt' as updated, deleted from sequin_records where sync_id = $1 and upstream_id = any($2)",
              [syncId, pending.map((change) => change.id)],
            );
            const seen = new Map(rows.map((row) => [`${row.collection_id}/${row.upstream_id}`, row]));
            return pending.filter((change) => {
              const row = seen.get(change.key);
              // an archive is in once the record is deleted; any other change once its update time is
              return (
                row !== undefined &&
                (change.expect === null ? row.deleted : !row.deleted && row.updated === change.expect)
              );
            });
          },
          timeoutMs: 10 * 60_000,
        });
        const ours = emulator.requests.filter((r) => r.install === token);
        return report({
          provider: "hubspot",
          records: flags.records,
          rate: flags.rate,
          backfill: { seconds, requests: backfillRequests },
          minimum: {
            seconds: minimumRequests / flags.rate,
            requests: minimumRequests,
            note: `${pages} pages of 100`,
          },
          latencies,
          liveNote: `poll ${hubspotKind.defaultPollIntervalSeconds} s, index lag ${flags.lag / 1000} s`,
          busiest: busiestAgainstAllotment(ours, flags.rate),
          more: [`429s ${ours.filter((r) => r.status === 429).length}`],
          wrong: await differencesFrom(store, syncId, emulator),
        });
      },
    );
  } finally {
    await emulator.close();
  }
}

process.exitCode = await main();
