/**
 * Invariant 1 under crashes: the consumer's worker process is killed with SIGKILL at random points while
 * it backfills and while writers keep ingesting (out-of-order versions and deletes included); a new worker
 * takes over each time. Once it caught up, the table must equal the stream's live set exactly.
 */
import assert from "node:assert/strict";
import { randomInt } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { createSync, ingest } from "../../src/stream/index.js";
import {
  caughtUp,
  createConsumerWorld,
  createSeedTarget,
  startSeedConsumer,
  tableMatchesStream,
} from "./consumer-world.js";
import { randomVersions, startIngestLoad, startWorkerProcess } from "./convergence.js";
import { waitFor } from "./wait.js";

export async function killScenario(runs: number): Promise<void> {
  const world = await createConsumerWorld(undefined, { inProcessWorker: false });
  const target = await createSeedTarget();
  const pool = world.store.pool;
  const syncs = [
    await createSync(pool, { name: "kill-a", provider: "hubspot" }),
    await createSync(pool, { name: "kill-b", provider: "hubspot" }),
  ];
  // a backlog to backfill
  const clock = { now: 0 };
  for (let i = 0; i < 10; i++) await ingest(pool, syncs[i % 2]!.id, randomVersions(1000, 3000, clock));
  const consumer = await startSeedConsumer(world, target, "killed", { provider: "hubspot" });
  const load = startIngestLoad(
    pool,
    syncs.map((s) => s.id),
    3000,
  );

  let killedWhileApplying = 0;
  for (let run = 0; run < runs; run++) {
    const worker = await startWorkerProcess(world.store.url, world.vaultKey);
    await sleep(randomInt(50, 600));
    const { rows } = await target.admin.query(
      "select count(*)::int as n from pg_stat_activity where application_name = 'sequin' and state <> 'idle'",
    );
    if (rows[0].n > 0) killedWhileApplying++;
    await worker.kill();
  }
  await load.stop();

  const last = await startWorkerProcess(world.store.url, world.vaultKey);
  try {
    await waitFor("the last worker to catch up", () => caughtUp(world, consumer.id), 60_000);
  } finally {
    await last.stop();
  }
  const diff = await tableMatchesStream(pool, target.admin, `${target.schema}.killed`, {
    provider: "hubspot",
  });
  assert.deepEqual(
    { missing: diff.missing.length, extra: diff.extra.length, stale: diff.stale.length },
    { missing: 0, extra: 0, stale: 0 },
  );
  assert.ok(load.batches > runs, "writers kept ingesting while workers were killed");
  assert.ok(killedWhileApplying > 0, "some kills landed while a batch was being applied");
}
