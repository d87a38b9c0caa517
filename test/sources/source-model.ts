/**
 * What the providers' model-based convergence tests share: a store with a sync pulling from an emulator, a
 * source worker process that a step may kill -9, the steps every provider draws (faults, kills, waits), and
 * the comparison of the stream with the emulator's live objects. Each test keeps its provider's own steps,
 * how it fills the emulator and what it asserts of the emulator's request log.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import fc from "fast-check";
import type pg from "pg";
import { withTransaction } from "../../src/db/transaction.js";
import { type SourceInput, Sources } from "../../src/sources/index.js";
import { createSync } from "../../src/stream/index.js";
import { Vault } from "../../src/vault/index.js";
import type { FaultRules, PathMatch } from "../emulators/fault-rules.js";
import { startWorkerProcess, type WorkerProcess } from "../helpers/convergence.js";
import { createTestStore, type TestStore } from "../helpers/database.js";
import { waitFor } from "../helpers/wait.js";

export interface ModelStore {
  store: TestStore;
  /** The vault's key, which the worker processes are given to read the credentials. */
  vaultKey: Buffer;
  sources: Sources;
}

/** The test file's own store, and the sources on it. */
export async function createModelStore(): Promise<ModelStore> {
  const store = await createTestStore();
  const vaultKey = randomBytes(32);
  const sources = new Sources({ pool: store.pool, vault: Vault.fromKey(vaultKey) });
  return { store, vaultKey, sources };
}

/** A new sync pulling `collections` from `source`: checked by the provider first, then created in one go. */
export async function createPulledSync(
  { store, sources }: ModelStore,
  options: { name: string; provider: string; collections: string[]; source: SourceInput },
) {
  const prepared = await sources.prepare(options.provider, options.collections, options.source);
  return withTransaction(store.pool, async (client) => {
    const created = await createSync(client, {
      name: options.name,
      provider: options.provider,
      collections: prepared.collections,
    });
    await sources.insert(client, created.id, prepared);
    return created;
  });
}

export interface SourceWorkerHandle {
  /** kill -9, then a new process: what is left mid-request must be picked up by the next. */
  restart(): Promise<void>;
  /** kill -9 of the current process at the end of a run: it is not asked to finish anything. */
  stop(): Promise<void>;
}

/**
 * The source worker in a child process, so a step can kill it -9 like a crash would. Leases last one second,
 * so the next process takes over the dead one's syncs within the run.
 */
export async function startSourceWorker({ store, vaultKey }: ModelStore): Promise<SourceWorkerHandle> {
  const start = () =>
    startWorkerProcess(store.url, vaultKey, { TEST_LEASE_SECONDS: "1" }, "source-worker-process.ts");
  let worker: WorkerProcess = await start();
  return {
    async restart() {
      await worker.kill();
      worker = await start();
    },
    stop: () => worker.kill(),
  };
}

type FaultStep<Fault extends string> = { kind: "fault"; fault: Fault; count: number };
type KillStep = { kind: "kill" };
type WaitStep = { kind: "wait"; ms: number };
/** The steps every provider's test draws besides its own; the kinds of fault are its emulator's. */
export type SharedStep<Fault extends string> = FaultStep<Fault> | KillStep | WaitStep;

type Weighted<T> = { weight: number; arbitrary: fc.Arbitrary<T> };

/** The next 1 to 3 requests answer one of `kinds`. */
export function faultStep<const Fault extends string>(kinds: readonly Fault[]): Weighted<FaultStep<Fault>> {
  return {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("fault" as const),
      fault: fc.constantFrom(...kinds),
      count: fc.integer({ min: 1, max: 3 }),
    }),
  };
}

/** kill -9 of the worker process at a step boundary; a new one starts. */
export const killStep: Weighted<KillStep> = {
  weight: 1,
  arbitrary: fc.constant({ kind: "kill" as const }),
};

/** A pause of 20 ms to `maxMs`, so the worker gets to run between changes. */
export function waitStep(maxMs: number): Weighted<WaitStep> {
  return {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant("wait" as const), ms: fc.integer({ min: 20, max: maxMs }) }),
  };
}

/** Runs a shared step; `faultPath` limits the faults to the requests whose path starts with it. */
export async function runSharedStep<Fault extends string>(
  step: SharedStep<Fault>,
  on: { faults: Pick<FaultRules<Fault>, "failNext">; worker: SourceWorkerHandle; faultPath?: PathMatch },
): Promise<void> {
  switch (step.kind) {
    case "fault":
      on.faults.failNext(step.count, { kind: step.fault, path: on.faultPath });
      break;
    case "kill":
      await on.worker.restart();
      break;
    case "wait":
      await new Promise((resolve) => setTimeout(resolve, step.ms));
      break;
  }
}

/** The stream's live records of a collection: upstream id → payload. */
export async function streamOf(pool: pg.Pool, syncId: string, collection: string) {
  const { rows } = await pool.query<{ upstream_id: string; payload: unknown }>(
    "select upstream_id, payload from sequin_records where sync_id = $1 and collection_id = $2 and not deleted",
    [syncId, collection],
  );
  return new Map(rows.map((r) => [r.upstream_id, r.payload]));
}

export interface DifferenceOptions {
  /** Where the live objects are, as the message says it: "in Stripe", "on GitHub". */
  where: string;
  /** An object's upstream id; `id` by default. */
  idOf?: (object: Record<string, unknown>) => string;
  /** What the message calls a collection, where the emulator's word differs from the collection's id. */
  names?: Record<string, string>;
  /** Records upstream no longer has are not counted: only a sweep can find those. */
  extrasAllowed?: boolean;
}

/**
 * The first difference between the stream and the emulator's live objects (`live`: collection → objects),
 * or undefined when they are equal: every object's payload exactly as upstream shows it now, and no more
 * records than objects.
 */
export async function streamDifference(
  pool: pg.Pool,
  syncId: string,
  live: Record<string, Record<string, unknown>[]>,
  { where, idOf = (object) => String(object.id), names = {}, extrasAllowed = false }: DifferenceOptions,
): Promise<string | undefined> {
  for (const [collection, objects] of Object.entries(live)) {
    const name = names[collection] ?? collection;
    const stream = await streamOf(pool, syncId, collection);
    if (!extrasAllowed && stream.size !== objects.length)
      return `${name}: ${stream.size} in the stream, ${objects.length} ${where}`;
    for (const object of objects) {
      try {
        assert.deepEqual(stream.get(idOf(object)), object);
      } catch {
        return `${name} ${idOf(object)}: stale or missing`;
      }
    }
  }
  return undefined;
}

/** Waits until `difference` finds none; on timeout the error names the last one found. */
export async function waitStreamEquals(
  what: string,
  difference: () => Promise<string | undefined>,
  timeoutMs = 60_000,
): Promise<void> {
  let last: string | undefined;
  await waitFor(
    what,
    async () => {
      last = await difference();
      return last === undefined;
    },
    timeoutMs,
  ).catch((error: Error) => {
    throw new Error(`${error.message}: ${last}`);
  });
}
