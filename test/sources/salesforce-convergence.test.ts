/**
 * Model-based convergence of a Salesforce sync: the Salesforce emulator is the model. fast-check draws a
 * sequence of steps — creates, updates, deletes into the recycle bin, purges, undeletes, changes that commit
 * late with an older stamp, bursts of records in one second (more than a batch of 50 holds), injected 500s,
 * 503s, concurrent-request limits, sessions that end (the refresh-token flow renews them), cut connections, and
 * kill -9 of the worker process (a new one starts) — while the backfill runs and after it. Once quiet, the
 * stream equals the org's live records exactly, nothing extra, nothing stale; and the allotment held in every
 * one-second window the org saw.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { busiestWindow, type FaultKind, startSalesforceEmulator } from "../emulators/salesforce/index.js";
import { waitFor } from "../helpers/wait.js";
import {
  createModelStore,
  createPulledSync,
  faultStep,
  killStep,
  runSharedStep,
  type SharedStep,
  startSourceWorker,
  streamDifference,
  waitStep,
  waitStreamEquals,
} from "./source-model.js";

const model = await createModelStore();
const { sources } = model;
// batches of 50: backfills follow locators, and a second holding more records than a batch crosses pages
const emulator = await startSalesforceEmulator({ batchSize: 50 });
const allotment = 25;
const objects = ["Account", "Contact"] as const;
type ObjectName = (typeof objects)[number];

type Step =
  | { kind: "create"; object: ObjectName }
  | { kind: "update"; object: ObjectName; pick: number; lateMs: number }
  | { kind: "delete"; object: ObjectName; pick: number }
  | { kind: "purge"; object: ObjectName; pick: number }
  | { kind: "undelete"; object: ObjectName; pick: number }
  | { kind: "burst"; count: number }
  /** Until the backfill is done: the steps after it are seen by changes alone. */
  | { kind: "backfilled" }
  | SharedStep<FaultKind>;

const object = fc.constantFrom(...objects);
const pick = fc.nat();
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("create" as const), object }) },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("update" as const),
      object,
      pick,
      lateMs: fc.oneof(fc.constant(0), fc.integer({ min: 200, max: 1500 })),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("delete" as const), object, pick }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("purge" as const), object, pick }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("undelete" as const), object, pick }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("burst" as const), count: fc.integer({ min: 51, max: 120 }) }),
  },
  faultStep<FaultKind>([
    "unknown_exception",
    "unavailable",
    "concurrent_limit",
    "session_expired",
    "destroy",
  ]),
  killStep,
  { weight: 1, arbitrary: fc.constant({ kind: "backfilled" as const }) },
  waitStep(300),
);

/** The stream against the org's live records, by their `Id`. */
function difference(syncId: string) {
  const live = Object.fromEntries(objects.map((name) => [name, emulator.all(name)]));
  return streamDifference(model.store.pool, syncId, live, {
    where: "in the org",
    idOf: (record) => record.Id as string,
  });
}

let run = 0;

test("random changes, late commits, ties, faults and kill -9s during and after the backfill: the stream equals the org", async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(step, { minLength: 25, maxLength: 45 }), async (steps) => {
      run += 1;
      const issuedBefore = emulator.issuedTokens.length;
      for (let i = 0; i < 120; i++) emulator.create("Account", { Name: `Run ${run} account ${i}` });
      for (let i = 0; i < 15; i++) emulator.create("Contact", { LastName: `Run ${run} contact ${i}` });
      const sync = await createPulledSync(model, {
        name: `salesforce-model-${run}`,
        provider: "salesforce",
        collections: [...objects],
        source: {
          credentials: {
            refresh_token: emulator.refreshToken(),
            client_id: emulator.clientId,
            client_secret: emulator.clientSecret,
            login_url: emulator.instanceUrl,
          },
          base_url: emulator.instanceUrl,
          max_requests_per_second: allotment,
          poll_interval_seconds: 0.2,
          // longer than the org's clock is moved on at the end (the delete log is read by whole minutes)
          settings: { lookback_seconds: 120, deleted_check_seconds: 1 },
        },
      });
      const worker = await startSourceWorker(model);
      const deleted: { object: ObjectName; id: string }[] = [];
      try {
        for (const s of steps) {
          const live = (name: ObjectName) => emulator.all(name).map((r) => r.Id as string);
          const choose = (name: ObjectName, n: number) => {
            const ids = live(name);
            return ids.length > 0 ? ids[n % ids.length] : undefined;
          };
          switch (s.kind) {
            case "create":
              emulator.create(s.object, s.object === "Account" ? { Name: "New" } : { LastName: "New" });
              break;
            case "update": {
              const id = choose(s.object, s.pick);
              const fields = s.object === "Account" ? { Name: `n${s.pick}` } : { LastName: `l${s.pick}` };
              if (id) emulator.update(s.object, id, fields, { lateByMs: s.lateMs });
              break;
            }
            case "delete": {
              const id = choose(s.object, s.pick);
              if (id) {
                emulator.remove(s.object, id);
                deleted.push({ object: s.object, id });
              }
              break;
            }
            case "purge": {
              const id = choose(s.object, s.pick);
              if (id) emulator.purge(s.object, id);
              break;
            }
            case "undelete": {
              const found = deleted.splice(s.pick % Math.max(1, deleted.length), 1)[0];
              if (found && !live(found.object).includes(found.id)) {
                try {
                  emulator.undelete(found.object, found.id);
                } catch {
                  // purged since: gone for good
                }
              }
              break;
            }
            case "burst": {
              const at = emulator.clock.nowMs();
              for (let i = 0; i < s.count; i++) emulator.create("Account", { Name: `burst ${i}` }, { at });
              break;
            }
            case "backfilled":
              await waitFor(
                "the backfill",
                async () =>
                  (await sources.views([sync.id])).get(sync.id)?.collections.every((c) => c.backfill.done),
                30_000,
              );
              break;
            default:
              await runSharedStep(s, { faults: emulator.faults, worker, faultPath: "/services/data" });
          }
        }
        emulator.faults.clear();
        // every late commit in, then the org's clock past the minute the delete log covers
        await new Promise((resolve) => setTimeout(resolve, 1600));
        emulator.clock.advance(61_000);
        await waitStreamEquals("the stream to equal the org", () => difference(sync.id));
      } finally {
        await worker.stop();
        // the next run's workers leave this sync alone: the org's request log is then one sync's
        await sources.setDesired(sync.id, "paused");
      }
      const tokens = new Set(emulator.issuedTokens.slice(issuedBefore));
      const ours = emulator.requests.filter((r) => r.token !== null && tokens.has(r.token));
      assert.ok(ours.length > 10);
      assert.ok(busiestWindow(ours) <= allotment, `busiest second: ${busiestWindow(ours)}`);
    }),
    {
      numRuns: Number(process.env.SALESFORCE_CONVERGENCE_RUNS ?? 3),
      endOnFailure: true,
      includeErrorInReport: true,
    },
  );
});
