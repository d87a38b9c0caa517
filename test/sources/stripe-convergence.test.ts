/**
 * Model-based convergence of a Stripe sync: the Stripe emulator is the model. fast-check draws a sequence of
 * steps — creates, updates, deletes, bursts of changes to one object within one second, injected 500s,
 * 429s and cut connections, and kill -9 of the worker process at a step boundary (a new one starts) — run
 * while the backfill is under way and after it. Once quiet, the stream equals Stripe's live objects exactly
 * (payloads as the API returns them now), nothing extra, nothing stale; and the allotment held in every
 * one-second window Stripe saw.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { busiestWindow, type CollectionName, startStripeEmulator } from "../emulators/stripe/index.js";
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
const emulator = await startStripeEmulator({ rateLimitPerSecond: null });
const allotment = 25;
const pulled: Record<string, string> = { customers: "customer", products: "product" };
const emulated = Object.keys(pulled) as CollectionName[];

type Step =
  | { kind: "create"; collection: CollectionName }
  | { kind: "update"; collection: CollectionName; pick: number }
  | { kind: "delete"; collection: CollectionName; pick: number }
  | { kind: "burst"; pick: number; times: number }
  | SharedStep<"api_error" | "rate_limit" | "destroy">;

const collection = fc.constantFrom(...emulated);
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("create" as const), collection }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("update" as const), collection, pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("delete" as const), collection, pick: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("burst" as const),
      pick: fc.nat(),
      times: fc.integer({ min: 2, max: 6 }),
    }),
  },
  faultStep(["api_error", "rate_limit", "destroy"]),
  killStep,
  waitStep(300),
);

/** The stream against Stripe's live objects, named as Stripe names its collections. */
function difference(syncId: string) {
  const live = Object.fromEntries(emulated.map((name) => [pulled[name]!, emulator.all(name)]));
  const names = Object.fromEntries(emulated.map((name) => [pulled[name]!, name]));
  return streamDifference(model.store.pool, syncId, live, { where: "in Stripe", names });
}

let run = 0;

test("random changes, faults and kill -9s during and after the backfill: the stream equals Stripe", async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(step, { minLength: 25, maxLength: 45 }), async (steps) => {
      run += 1;
      const key = emulator.createKey();
      for (let i = 0; i < 120; i++) emulator.create("customers", { email: `r${run}-${i}@example.com` });
      for (let i = 0; i < 15; i++) emulator.create("products", { name: `Run ${run} product ${i}` });
      const sync = await createPulledSync(model, {
        name: `stripe-model-${run}`,
        provider: "stripe",
        collections: Object.values(pulled),
        source: {
          credentials: { api_key: key },
          base_url: `http://${emulator.host}:${emulator.port}`,
          max_requests_per_second: allotment,
          poll_interval_seconds: 0.2,
        },
      });
      const worker = await startSourceWorker(model);
      try {
        for (const s of steps) {
          const pick = (name: CollectionName, n: number) => {
            const objects = emulator.all(name);
            return objects.length > 0 ? (objects[n % objects.length]!.id as string) : undefined;
          };
          switch (s.kind) {
            case "create":
              emulator.create(
                s.collection,
                s.collection === "customers" ? { email: `new${run}@example.com` } : { name: "New" },
              );
              break;
            case "update": {
              const id = pick(s.collection, s.pick);
              if (id)
                emulator.update(
                  s.collection,
                  id,
                  s.collection === "customers" ? { name: `n${s.pick}` } : { name: `p${s.pick}` },
                );
              break;
            }
            case "delete": {
              const id = pick(s.collection, s.pick);
              if (id) emulator.remove(s.collection, id);
              break;
            }
            case "burst": {
              const id = pick("customers", s.pick);
              for (let i = 0; id && i < s.times; i++)
                emulator.update("customers", id, { description: `burst ${i}` });
              break;
            }
            default:
              await runSharedStep(s, { faults: emulator.faults, worker });
          }
        }
        emulator.faults.clear();
        await waitStreamEquals("the stream to equal Stripe", () => difference(sync.id));
      } finally {
        await worker.stop();
      }
      const ours = emulator.requests.filter((r) => r.key === key);
      assert.ok(busiestWindow(ours, 1000) <= allotment, `busiest second: ${busiestWindow(ours, 1000)}`);
    }),
    { numRuns: 2, endOnFailure: true },
  );
});
