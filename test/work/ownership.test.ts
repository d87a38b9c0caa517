/**
 * Work ownership: the fair-share plan as a table of cases, and on real Postgres the claims, the heartbeat
 * that keeps leases alive, and the fence that refuses a stale owner's commit in the store and in the target.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { test } from "node:test";
import pino from "pino";
import { commitPosition } from "../../src/consumer/consumer-queries.js";
import { createSync, ingest } from "../../src/stream/index.js";
import {
  applyBatch,
  FenceRefused,
  prepareFencedSession,
  takeFence,
} from "../../src/targets/postgres/index.js";
import { fairShare, planShare, WorkOwnership } from "../../src/work/index.js";
import {
  caughtUp,
  createConsumerWorld,
  createSeedTarget,
  startSeedConsumer,
} from "../helpers/consumer-world.js";
import { createTestStore } from "../helpers/database.js";
import { waitFor } from "../helpers/wait.js";

const log = pino({ level: "silent" });

test("fair share is ceil(active / live workers)", () => {
  for (const [active, live, share] of [
    [12, 3, 4],
    [12, 4, 3],
    [13, 4, 4],
    [0, 2, 0],
    [5, 0, 5],
    [1000, 4, 250],
  ] as const)
    assert.equal(fairShare(active, live), share, `${active} over ${live}`);
});

test("the plan hands back the excess and what should not run, and claims free or orphaned work up to the share", () => {
  const me = "me";
  const lease = (id: string, owner: string | null, ownerLive = true, active = true) => ({
    resource_id: id,
    active,
    owner,
    fence: owner ? "1" : null,
    owner_live: ownerLive,
  });
  const keep = <T>(x: T[]) => x;
  // 6 active over 2 live workers: share 3; I hold 4, so one goes back
  let plan = planShare(
    {
      liveWorkers: 2,
      leases: [
        lease("a", me),
        lease("b", me),
        lease("c", me),
        lease("d", me),
        lease("e", "other"),
        lease("f", "other"),
      ],
    },
    me,
    keep,
  );
  assert.equal(plan.share, 3);
  assert.deepEqual([...plan.held.keys()], ["a", "b", "c"]);
  assert.deepEqual(plan.release, ["d"]);
  assert.deepEqual(plan.claim, []);
  // a dead owner's work and never-claimed work are free; a paused consumer I hold goes back
  plan = planShare(
    {
      liveWorkers: 2,
      leases: [
        lease("a", me),
        lease("b", "dead", false),
        lease("c", null),
        lease("d", "other"),
        lease("x", me, true, false),
      ],
    },
    me,
    keep,
  );
  assert.equal(plan.share, 2);
  assert.deepEqual(plan.release, ["x"]);
  assert.deepEqual(plan.claim, ["b"]);
});

test("claims move the fence on; a heartbeat keeps a worker's leases; a dead worker's are claimed by another", async () => {
  const store = await createTestStore();
  const a = new WorkOwnership(store.pool, "worker", { leaseSeconds: 1, beatMs: 200 }, log);
  const b = new WorkOwnership(store.pool, "worker", { leaseSeconds: 1, beatMs: 200 }, log);
  await a.start();
  await b.start();
  const ids = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
  const planA = await a.plan("consumer", ids);
  assert.equal(planA.share, 2);
  const claimedA = await a.claim("consumer", planA.claim);
  assert.equal(claimedA.size, 2);
  assert.ok([...claimedA.values()].every((f) => f === "1"));
  // b cannot take a's work while a beats
  assert.equal((await b.claim("consumer", [...claimedA.keys()])).size, 0);
  await new Promise((resolve) => setTimeout(resolve, 1500));
  assert.equal((await b.claim("consumer", [...claimedA.keys()])).size, 0, "a's beat kept its leases");
  const planB = await b.plan("consumer", ids);
  assert.equal((await b.claim("consumer", planB.claim)).size, 2);
  // a stops beating without leaving (as if killed): its leases go to b after the lease
  await a.freeze();
  const taken = await waitFor(
    "a's leases to be free",
    async () => {
      const got = await b.claim("consumer", [...claimedA.keys()]);
      return got.size === 2 ? got : false;
    },
    5000,
  );
  assert.ok(
    [...taken.values()].every((f) => f === "2"),
    "each claim moved the fence on",
  );
  await b.stop();
  const { rows } = await store.pool.query(
    "select count(*)::int as n from sequin_leases where owner is not null",
  );
  assert.equal(rows[0].n, 0, "a worker that stops hands its leases back");
});

test("a stale owner's commit is refused in the store and in the target", async () => {
  const world = await createConsumerWorld(undefined, { inProcessWorker: false });
  const target = await createSeedTarget();
  const consumer = await startSeedConsumer(world, target, "fenced", { provider: "hubspot" });
  const pool = world.store.pool;
  const old = new WorkOwnership(pool, "worker", { leaseSeconds: 60, beatMs: 1000 }, log);
  const next = new WorkOwnership(pool, "worker", { leaseSeconds: 60, beatMs: 1000 }, log);
  await old.start();
  const oldFence = (await old.claim("consumer", [consumer.id])).get(consumer.id)!;
  await old.release("consumer", [consumer.id]);
  await next.start();
  const newFence = (await next.claim("consumer", [consumer.id])).get(consumer.id)!;
  assert.ok(BigInt(newFence) > BigInt(oldFence));
  const cursor = { txid: "0", position: "0" };
  const commit = (fence: string) =>
    commitPosition(pool, { id: consumer.id, fence, cursor, upserted: 0, deleted: 0, applied: 0 });
  assert.equal(await commit(oldFence), false, "the store refuses the old fence");
  assert.equal(await commit(newFence), true, "and takes the current one");

  const connect = async () => {
    const client = await world.targets.connect(consumer.target_id);
    await prepareFencedSession(client, target.schema, 5000);
    return client;
  };
  const [stale, current] = [await connect(), await connect()];
  try {
    const fenceOf = (fence: string) => ({ schema: target.schema, consumerId: consumer.id, fence });
    assert.equal(await takeFence(stale, fenceOf(oldFence)), true);
    assert.equal(await takeFence(current, fenceOf(newFence)), true);
    assert.equal(await takeFence(stale, fenceOf(oldFence)), false, "an older fence cannot take it back");
    const row = {
      sequin_id: randomUUID(),
      sync_id: randomUUID(),
      collection_id: "contact",
      upstream_id: "1",
      payload: { a: 1 },
      upstream_updated_at: "2024-01-01T00:00:00Z",
      deleted: false,
    };
    const table = { schema: target.schema, name: "fenced" };
    await assert.rejects(applyBatch(stale, table, [row], { fence: fenceOf(oldFence) }), FenceRefused);
    const { rows } = await target.admin.query(`select count(*)::int as n from ${target.schema}.fenced`);
    assert.equal(rows[0].n, 0, "the refused batch was rolled back");
    await applyBatch(current, table, [row], { fence: fenceOf(newFence) });
    const after = await target.admin.query(`select count(*)::int as n from ${target.schema}.fenced`);
    assert.equal(after.rows[0].n, 1);
  } finally {
    await stale.end();
    await current.end();
    await old.stop();
    await next.stop();
  }
});

test("a dropped fence table is created again: the batch in flight rolls back, the runner restarts", async () => {
  const world = await createConsumerWorld();
  const target = await createSeedTarget();
  const sync = await createSync(world.store.pool, { name: "fence-drop", provider: "hubspot" });
  const consumer = await startSeedConsumer(world, target, "fence_drop", { sync_id: sync.id });
  const record = (n: number) => ({
    collection_id: "contact",
    upstream_id: String(n),
    payload: { n },
    upstream_updated_at: new Date(Date.UTC(2024, 0, 1, 0, 0, n)).toISOString(),
  });
  await ingest(world.store.pool, sync.id, [record(1)]);
  await waitFor("the first record", () => caughtUp(world, consumer.id));
  await target.admin.query(`drop table ${target.schema}.sequin_fences`);
  await ingest(world.store.pool, sync.id, [record(2)]);
  await waitFor("the second record after the fence table was dropped", async () => {
    const { rows } = await target.admin.query(`select count(*)::int as n from ${target.schema}.fence_drop`);
    return rows[0].n === 2;
  });
  const { rows } = await target.admin.query(
    `select count(*)::int as n from ${target.schema}.sequin_fences where consumer_id = $1`,
    [consumer.id],
  );
  assert.equal(rows[0].n, 1, "the fence table and the consumer's row are back");
});
