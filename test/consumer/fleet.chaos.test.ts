/**
 * The fleet under faults for a long while: 12 consumers, 4 worker processes, and every few seconds one of
 * them killed with SIGKILL (and a new one started), frozen with SIGSTOP past its lease and woken, or stopped
 * cleanly, while writers keep ingesting. At the end every table equals its stream. SEQUIN_CHAOS_RUNS sets the number of faults (30 by default).
 */
import assert from "node:assert/strict";
import { randomInt } from "node:crypto";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { createSync, ingest } from "../../src/stream/index.js";
import {
  caughtUp,
  createConsumerWorld,
  createSeedTarget,
  startSeedConsumer,
  tableMatchesStream,
} from "../helpers/consumer-world.js";
import {
  randomVersions,
  startIngestLoad,
  startWorkerProcess,
  type WorkerProcess,
} from "../helpers/convergence.js";
import { waitFor } from "../helpers/wait.js";

const runs = Number(process.env.SEQUIN_CHAOS_RUNS ?? 30);
const leaseSeconds = 2;
const consumerCount = 12;

test(`12 consumers over 4 worker processes through ${runs} kills, freezes and restarts converge`, async () => {
  const world = await createConsumerWorld(undefined, { inProcessWorker: false });
  const target = await createSeedTarget();
  const pool = world.store.pool;
  const syncs = [];
  const clock = { now: 0 };
  for (let i = 0; i < consumerCount; i++) {
    const sync = await createSync(pool, { name: `chaos-${i}`, provider: "hubspot" });
    await ingest(pool, sync.id, randomVersions(500, 500, clock));
    syncs.push(sync);
  }
  const consumers = [];
  for (let i = 0; i < consumerCount; i++)
    consumers.push(await startSeedConsumer(world, target, `chaos_${i}`, { sync_id: syncs[i]!.id }));
  const env = { TEST_LEASE_SECONDS: String(leaseSeconds), TEST_BATCH_SIZE: "200" };
  const start = () => startWorkerProcess(world.store.url, world.vaultKey, env);
  let workers: WorkerProcess[] = [];
  const all: WorkerProcess[] = [];
  const load = startIngestLoad(
    pool,
    syncs.map((s) => s.id),
    500,
  );
  try {
    for (let i = 0; i < 4; i++) workers.push(await start());
    all.push(...workers);
    for (let run = 0; run < runs; run++) {
      await sleep(randomInt(500, 3000));
      const victim = workers[randomInt(workers.length)]!;
      const fault = randomInt(3);
      if (fault === 0) {
        await victim.kill();
      } else if (fault === 1) {
        victim.child.kill("SIGSTOP");
        await sleep((leaseSeconds + randomInt(0, 3)) * 1000);
        victim.child.kill("SIGCONT");
        continue;
      } else {
        await victim.stop();
      }
      workers = workers.filter((w) => w !== victim);
      const fresh = await start();
      workers.push(fresh);
      all.push(fresh);
    }
    await load.stop();
    for (const consumer of consumers)
      await waitFor(`${consumer.name} to catch up`, () => caughtUp(world, consumer.id), 120_000);
    for (let i = 0; i < consumerCount; i++) {
      const diff = await tableMatchesStream(pool, target.admin, `${target.schema}.chaos_${i}`, {
        syncId: syncs[i]!.id,
      });
      assert.deepEqual(
        { missing: diff.missing.length, extra: diff.extra.length, stale: diff.stale.length },
        { missing: 0, extra: 0, stale: 0 },
        `table chaos_${i}`,
      );
    }
    assert.ok(load.batches > runs, "writers kept ingesting throughout");
  } finally {
    await load.stop();
    for (const w of all) {
      w.child.kill("SIGCONT");
      await w.kill();
    }
  }
});
