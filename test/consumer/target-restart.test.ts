/**
 * Invariant 1 across target outages and concurrent out-of-order ingest: the target server is restarted
 * (fast shutdown, open transactions cut) and crashed (SIGKILL) while the consumer applies batches and
 * writers keep ingesting. The consumer goes to waiting_for_target, comes back by itself, and the table
 * ends equal to the stream.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { createSync, ingest } from "../../src/stream/index.js";
import { startOwnCluster } from "../helpers/clusters.js";
import {
  caughtUp,
  createConsumerWorld,
  createSeedTarget,
  startSeedConsumer,
  tableMatchesStream,
} from "../helpers/consumer-world.js";
import { randomVersions, startIngestLoad } from "../helpers/convergence.js";
import { waitFor } from "../helpers/wait.js";

test("restarts and crashes of the target mid-batch: waiting_for_target, then convergence", async () => {
  const cluster = await startOwnCluster();
  const world = await createConsumerWorld();
  const target = await createSeedTarget(cluster.url());
  const pool = world.store.pool;
  const sync = await createSync(pool, { name: "restarted", provider: "hubspot" });
  const clock = { now: 0 };
  for (let i = 0; i < 20; i++) await ingest(pool, sync.id, randomVersions(1000, 20_000, clock));
  const consumer = await startSeedConsumer(world, target, "restarted", { provider: "hubspot" });
  const load = startIngestLoad(pool, [sync.id], 20_000);

  await waitFor(
    "the backfill to be under way",
    async () => (await world.consumers.get(consumer.id)).stats.upserted > 0,
  );
  await cluster.restart();
  await waitFor("recovery after the restart", async () => {
    const c = await world.consumers.get(consumer.id);
    return c.state === "backfilling" || c.state === "live";
  });
  await sleep(200);
  await cluster.kill();
  const waiting = await waitFor("waiting_for_target", async () => {
    const c = await world.consumers.get(consumer.id);
    return c.state === "waiting_for_target" ? c : undefined;
  });
  assert.equal(waiting.health.status, "unhealthy");
  assert.match(waiting.health.notes.join(" "), /target-restarted/);
  await sleep(300); // an outage long enough for several probes
  await cluster.start();
  await load.stop();

  await waitFor("catching up", () => caughtUp(world, consumer.id), 60_000);
  const diff = await tableMatchesStream(pool, target.admin, `${target.schema}.restarted`, {
    provider: "hubspot",
  });
  assert.deepEqual(diff, { missing: [], extra: [], stale: [] });
  const events = (await world.consumers.events(consumer.id)).map((e) => e.to_state);
  assert.ok(events.includes("waiting_for_target"));
  assert.equal((await world.consumers.get(consumer.id)).health.status, "healthy");
});
