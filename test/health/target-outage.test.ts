/**
 * A target that goes offline: connections cut mid-batch, traffic black-holed (no answer at all), the
 * server stopped. Each time the consumer goes to waiting_for_target within seconds, reports unhealthy with
 * a note naming the target, comes back by itself, and the table converges to the stream.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
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
import { TcpProxy } from "../helpers/tcp-proxy.js";
import { waitFor } from "../helpers/wait.js";

test("cut, black-holed and stopped target: waiting_for_target, unhealthy, then back and converged", async () => {
  const cluster = await startOwnCluster();
  const proxy = await TcpProxy.start({ host: "127.0.0.1", port: cluster.port });
  const world = await createConsumerWorld();
  const target = await createSeedTarget(cluster.url());
  const pool = world.store.pool;
  const sync = await createSync(pool, { name: "outage", provider: "hubspot" });
  const clock = { now: 0 };
  for (let i = 0; i < 20; i++) await ingest(pool, sync.id, randomVersions(1000, 20_000, clock));
  const consumer = await startSeedConsumer(world, { ...target, port: proxy.port }, "outage", {
    provider: "hubspot",
  });
  const table = `${target.schema}.outage`;
  const load = startIngestLoad(pool, [sync.id], 20_000, 2);
  const state = async () => (await world.consumers.get(consumer.id)).state;
  const waitingFor = async (what: string) => {
    const started = Date.now();
    const c = await waitFor(what, async () => {
      const current = await world.consumers.get(consumer.id);
      return current.state === "waiting_for_target" ? current : undefined;
    });
    return { consumer: c, seconds: (Date.now() - started) / 1000 };
  };

  // 1. connections cut in the middle of the backfill
  await waitFor(
    "the backfill under way",
    async () => (await world.consumers.get(consumer.id)).stats.upserted > 0,
  );
  proxy.cutAll();
  await waitFor("running again after the cut", async () => ["backfilling", "live"].includes(await state()));

  // 2. black hole: nothing answers, nothing resets
  proxy.blackhole();
  const blackholed = await waitingFor("waiting_for_target after the black hole");
  assert.ok(blackholed.seconds < 5, `noticed in ${blackholed.seconds} s`);
  assert.equal(blackholed.consumer.health.status, "unhealthy");
  assert.match(blackholed.consumer.health.notes.join(" "), /target "target-outage"/);
  const check = blackholed.consumer.health.checks.find((c) => c.name === "target_reachable");
  assert.equal(check?.status, "unhealthy");
  proxy.pass();
  await waitFor("running again after the black hole", async () =>
    ["backfilling", "live"].includes(await state()),
  );

  // 3. the server stopped, then started again
  await cluster.stop();
  const stopped = await waitingFor("waiting_for_target while the server is down");
  assert.ok(stopped.seconds < 5, `noticed in ${stopped.seconds} s`);
  await cluster.start();
  await load.stop();

  await waitFor("catching up", () => caughtUp(world, consumer.id), 60_000);
  assert.deepEqual(await tableMatchesStream(pool, target.admin, table, { provider: "hubspot" }), {
    missing: [],
    extra: [],
    stale: [],
  });
  const healthy = await world.consumers.get(consumer.id);
  assert.equal(healthy.health.status, "healthy");
  const transitions = (await world.consumers.events(consumer.id)).map((e) => e.to_state).reverse();
  assert.ok(transitions.filter((s) => s === "waiting_for_target").length >= 2, transitions.join(" → "));
});

test("an idle live consumer notices its target going away without having anything to write", async () => {
  const cluster = await startOwnCluster();
  const world = await createConsumerWorld();
  const target = await createSeedTarget(cluster.url());
  await createSync(world.store.pool, { name: "idle", provider: "idle" });
  const consumer = await startSeedConsumer(world, target, "idle", { provider: "idle" });
  await waitFor("live", async () => (await world.consumers.get(consumer.id)).state === "live");
  await cluster.stop();
  await waitFor(
    "waiting_for_target",
    async () => (await world.consumers.get(consumer.id)).state === "waiting_for_target",
    5000,
  );
  await cluster.start();
  await waitFor("live again", async () => (await world.consumers.get(consumer.id)).state === "live");
});
