/**
 * Model-based convergence of a Stripe sync: the Stripe emulator is the model. fast-check draws a sequence of
 * steps — creates, updates, deletes, bursts of changes to one object within one second, injected 500s,
 * 429s and cut connections, and kill -9 of the worker process at a step boundary (a new one starts) — run
 * while the backfill is under way and after it. Once quiet, the stream equals Stripe's live objects exactly
 * (payloads as the API returns them now), nothing extra, nothing stale; and the allotment held in every
 * one-second window Stripe saw.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import fc from "fast-check";
import { withTransaction } from "../../src/db/transaction.js";
import { Sources } from "../../src/sources/index.js";
import { createSync } from "../../src/stream/index.js";
import { Vault } from "../../src/vault/index.js";
import { busiestWindow, type CollectionName, startStripeEmulator } from "../emulators/stripe/index.js";
import { startWorkerProcess, type WorkerProcess } from "../helpers/convergence.js";
import { createTestStore } from "../helpers/database.js";
import { waitFor } from "../helpers/wait.js";

const store = await createTestStore();
const vaultKey = randomBytes(32);
const sources = new Sources({ pool: store.pool, vault: Vault.fromKey(vaultKey) });
const emulator = await startStripeEmulator({ rateLimitPerSecond: null });
const allotment = 25;
const pulled: Record<string, string> = { customers: "customer", products: "product" };
const emulated = Object.keys(pulled) as CollectionName[];

type Step =
  | { kind: "create"; collection: CollectionName }
  | { kind: "update"; collection: CollectionName; pick: number }
  | { kind: "delete"; collection: CollectionName; pick: number }
  | { kind: "burst"; pick: number; times: number }
  | { kind: "fault"; fault: "api_error" | "rate_limit" | "destroy"; count: number }
  | { kind: "kill" }
  | { kind: "wait"; ms: number };

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
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("fault" as const),
      fault: fc.constantFrom("api_error" as const, "rate_limit" as const, "destroy" as const),
      count: fc.integer({ min: 1, max: 3 }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: "kill" as const }) },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant("wait" as const), ms: fc.integer({ min: 20, max: 300 }) }),
  },
);

/** The stream's live records of a collection: upstream id → payload. */
async function streamOf(syncId: string, collectionId: string) {
  const { rows } = await store.pool.query<{ upstream_id: string; payload: unknown }>(
    "select upstream_id, payload from sequin_records where sync_id = $1 and collection_id = $2 and not deleted",
    [syncId, collectionId],
  );
  return new Map(rows.map((r) => [r.upstream_id, r.payload]));
}

async function difference(syncId: string): Promise<string | undefined> {
  for (const name of emulated) {
    const live = emulator.all(name);
    const stream = await streamOf(syncId, pulled[name]!);
    if (stream.size !== live.length) return `${name}: ${stream.size} in the stream, ${live.length} in Stripe`;
    for (const object of live) {
      try {
        assert.deepEqual(stream.get(object.id as string), object);
      } catch {
        return `${name} ${object.id}: stale or missing`;
      }
    }
  }
  return undefined;
}

let run = 0;

test("random changes, faults and kill -9s during and after the backfill: the stream equals Stripe", async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(step, { minLength: 25, maxLength: 45 }), async (steps) => {
      run += 1;
      const key = emulator.createKey();
      for (let i = 0; i < 120; i++) emulator.create("customers", { email: `r${run}-${i}@example.com` });
      for (let i = 0; i < 15; i++) emulator.create("products", { name: `Run ${run} product ${i}` });
      const prepared = await sources.prepare("stripe", Object.values(pulled), {
        credentials: { api_key: key },
        base_url: `http://${emulator.host}:${emulator.port}`,
        max_requests_per_second: allotment,
        poll_interval_seconds: 0.2,
      });
      const sync = await withTransaction(store.pool, async (client) => {
        const created = await createSync(client, {
          name: `stripe-model-${run}`,
          provider: "stripe",
          collections: prepared.collections,
        });
        await sources.insert(client, created.id, prepared);
        return created;
      });
      const env = { TEST_LEASE_SECONDS: "1" };
      const start = () => startWorkerProcess(store.url, vaultKey, env, "source-worker-process.ts");
      let worker: WorkerProcess = await start();
      try {
        for (const s of steps) {
          const live = (name: CollectionName) => emulator.all(name);
          const pick = (name: CollectionName, n: number) => {
            const objects = live(name);
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
            case "fault":
              emulator.faults.failNext(s.count, { kind: s.fault });
              break;
            case "kill":
              await worker.kill();
              worker = await start();
              break;
            case "wait":
              await new Promise((resolve) => setTimeout(resolve, s.ms));
              break;
          }
        }
        emulator.faults.clear();
        let last: string | undefined;
        await waitFor(
          "the stream to equal Stripe",
          async () => {
            last = await difference(sync.id);
            return last === undefined;
          },
          60_000,
        ).catch((error: Error) => {
          throw new Error(`${error.message}: ${last}`);
        });
      } finally {
        await worker.kill();
      }
      const ours = emulator.requests.filter((r) => r.key === key);
      assert.ok(busiestWindow(ours, 1000) <= allotment, `busiest second: ${busiestWindow(ours, 1000)}`);
    }),
    { numRuns: 2, endOnFailure: true },
  );
});
