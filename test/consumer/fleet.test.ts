/**
 * Many workers on one store, as real processes: 12 consumers spread evenly over 3 workers; a worker killed
 * with SIGKILL and one frozen with SIGSTOP past its lease lose their consumers to the others within the lease
 * plus 10 s, and the frozen one, woken, changes nothing (each of its runners on a moved consumer has its
 * write refused by the fence in the target or the store, or stops before writing, and logs which); a 4th
 * worker joining gets its fair share within 30 s. Ingest never stops, and afterwards every table equals its
 * stream.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
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

const leaseSeconds = 3;
const consumerCount = 12;

test("12 consumers over 3, then 4 worker processes: fair shares, failover of killed and frozen workers, fenced stale writes", async () => {
  const world = await createConsumerWorld(undefined, { inProcessWorker: false });
  const target = await createSeedTarget();
  const pool = world.store.pool;
  const syncs = [];
  const clock = { now: 0 };
  for (let i = 0; i < consumerCount; i++) {
    const sync = await createSync(pool, { name: `fleet-${i}`, provider: "hubspot" });
    await ingest(pool, sync.id, randomVersions(300, 500, clock));
    syncs.push(sync);
  }
  const consumers = [];
  for (let i = 0; i < consumerCount; i++) {
    consumers.push(await startSeedConsumer(world, target, `fleet_${i}`, { sync_id: syncs[i]!.id }));
  }
  const env = { TEST_LEASE_SECONDS: String(leaseSeconds), TEST_LOG_LEVEL: "warn", TEST_BATCH_SIZE: "200" };
  const workers: WorkerProcess[] = [];
  let load: ReturnType<typeof startIngestLoad> | undefined;
  const start = async () => {
    const w = await startWorkerProcess(world.store.url, world.vaultKey, env);
    workers.push(w);
    return w;
  };
  try {
    const startedAt = Date.now();
    const [a, b, c] = [await start(), await start(), await start()];
    load = startIngestLoad(
      pool,
      syncs.map((s) => s.id),
      500,
    );

    /** consumer id → its live owner */
    const owners = async () => {
      const { rows } = await pool.query<{ resource_id: string; owner: string }>(
        `select l.resource_id::text, l.owner::text from sequin_leases l
         join sequin_workers w on w.id = l.owner and w.expires_at > now() where l.kind = 'consumer'`,
      );
      return new Map(rows.map((r) => [r.resource_id, r.owner]));
    };
    const countsOf = (map: Map<string, string>, ids: string[]) =>
      ids.map((id) => [...map.values()].filter((o) => o === id).length);

    // 1. spread 4/4/4 (±1)
    await waitFor(
      "12 consumers spread over 3 workers",
      async () => {
        const counts = countsOf(await owners(), [a.id, b.id, c.id]);
        return counts.reduce((x, y) => x + y) === consumerCount && counts.every((n) => n >= 3 && n <= 5);
      },
      30_000,
    );

    const spreadSeconds = (Date.now() - startedAt) / 1000;

    // 2. kill -9 of one: its consumers run elsewhere (owned by a live worker and applying again) within lease + 10 s
    const beforeKill = await owners();
    const ofA = [...beforeKill].filter(([, o]) => o === a.id).map(([id]) => id);
    const killedAt = Date.now();
    await a.kill();
    await waitFor(
      "the killed worker's consumers to move to live workers",
      async () => {
        const now = await owners();
        return ofA.every((id) => now.has(id) && now.get(id) !== a.id);
      },
      (leaseSeconds + 10) * 1000,
    );
    const killMoveSeconds = (Date.now() - killedAt) / 1000;
    await waitFor("the moved consumers to apply changes again", async () => {
      const { rows } = await pool.query<{ n: number }>(
        "select count(*)::int as n from sequin_consumers where id = any($1::uuid[]) and last_applied_at > $2",
        [ofA, new Date(killedAt)],
      );
      return rows[0]!.n === ofA.length;
    });

    // 3. SIGSTOP of one past its lease, caught in the middle of a batch: the test locks its consumers' tables
    // in the target, so a batch of it waits there when it freezes
    const beforeStop = await owners();
    const ofB = [...beforeStop].filter(([, o]) => o === b.id).map(([id]) => id);
    const names = new Map(consumers.map((x) => [x.id, x.name]));
    const locker = await target.admin.connect();
    await locker.query("begin");
    await locker.query(
      `lock table ${ofB.map((id) => `${target.schema}.${names.get(id)}`).join(", ")} in exclusive mode`,
    );
    await waitFor("a batch of the worker to wait on the locked tables", async () => {
      const { rows } = await target.admin.query<{ n: number }>(
        "select count(*)::int as n from pg_stat_activity where application_name = 'sequin' and wait_event_type = 'Lock'",
      );
      return rows[0]!.n > 0;
    });
    const stoppedAt = Date.now();
    b.child.kill("SIGSTOP");
    await waitFor(
      "the frozen worker's consumers to move",
      async () => {
        const now = await owners();
        return ofB.every((id) => now.get(id) === c.id);
      },
      (leaseSeconds + 10) * 1000,
    );
    const stopMoveSeconds = (Date.now() - stoppedAt) / 1000;
    // the new owner takes each consumer's fence in the target as it connects
    await waitFor("the new owner to hold the fences in the target", async () => {
      const { rows: leases } = await pool.query<{ id: string; fence: string }>(
        "select resource_id::text as id, fence::text from sequin_leases where kind = 'consumer' and resource_id = any($1::uuid[])",
        [ofB],
      );
      const { rows: fences } = await target.admin.query<{ id: string; fence: string }>(
        `select consumer_id::text as id, fence::text from ${target.schema}.sequin_fences where consumer_id = any($1::uuid[])`,
        [ofB],
      );
      const held = new Map(fences.map((f) => [f.id, f.fence]));
      return leases.every((l) => held.get(l.id) === l.fence);
    });
    const { rows: fencesBefore } = await target.admin.query<{ consumer_id: string; fence: string }>(
      `select consumer_id::text, fence::text from ${target.schema}.sequin_fences where consumer_id = any($1::uuid[])`,
      [ofB],
    );
    // the lock goes while it is still frozen, so its write in flight completes in the target first; woken,
    // its batch sends its fence statement at once and is refused (woken first, it could notice the lease
    // lost before the lock went and stop the batch without ever reaching the target's fence)
    await locker.query("commit");
    locker.release();
    // (waits on the table locks only: the new owner's batches may wait on the frozen one's rows meanwhile)
    await waitFor("the frozen worker's blocked write to complete in the target", async () => {
      const { rows } = await target.admin.query<{ n: number }>(
        "select count(*)::int as n from pg_stat_activity where application_name = 'sequin' and wait_event_type = 'Lock' and wait_event = 'relation'",
      );
      return rows[0]!.n === 0;
    });
    b.child.kill("SIGCONT");
    // every runner it had on the moved consumers either had its write refused (in the target, or in the store)
    // or was stopped on waking with nothing written, and said so
    const refusals = await waitFor(
      "the woken worker to log what became of its moved consumers",
      () => {
        const entries = b.lines
          .filter((l) => l.startsWith("{"))
          .map(
            (l) =>
              JSON.parse(l) as {
                refusedBy?: string;
                consumer?: string;
                consumerId?: string;
                leaseMoved?: boolean;
              },
          );
        const refused = entries.filter((e) => e.refusedBy === "store" || e.refusedBy === "target");
        const accounted = ofB.filter((id) =>
          entries.some(
            (e) => (e.refusedBy && e.consumer === names.get(id)) || (e.leaseMoved && e.consumerId === id),
          ),
        );
        if (accounted.length < ofB.length)
          throw new Error(`${accounted.length} of ${ofB.length} accounted for`);
        // which of the three a runner meets depends on what it was doing when frozen, and on which of its
        // timers fires first once woken: the target's and the store's refusals of a stale fence are each
        // proven on their own in test/work/ownership.test.ts; here, none of them may change anything
        return refused;
      },
      15_000,
    );
    // no target fence went back to the frozen worker's
    const { rows: fencesAfter } = await target.admin.query<{ consumer_id: string; fence: string }>(
      `select consumer_id::text, fence::text from ${target.schema}.sequin_fences where consumer_id = any($1::uuid[])`,
      [ofB],
    );
    const before = new Map(fencesBefore.map((r) => [r.consumer_id, BigInt(r.fence)]));
    for (const row of fencesAfter) assert.ok(BigInt(row.fence) >= before.get(row.consumer_id)!);

    // 4. a 4th worker joins and gets a fair share (ceil(12 / 3) = 4, ±1) within 30 s
    const d = await start();
    const joinedAt = Date.now();
    await waitFor(
      "the joining worker's fair share",
      async () => {
        const counts = countsOf(await owners(), [b.id, c.id, d.id]);
        return counts.reduce((x, y) => x + y) === consumerCount && counts.every((n) => n >= 3 && n <= 5);
      },
      30_000,
    );
    const joinSeconds = (Date.now() - joinedAt) / 1000;

    await load.stop();
    const batches = load.batches;
    load = undefined;
    assert.ok(batches > 50, "writers kept ingesting throughout");
    for (const consumer of consumers) {
      await waitFor(`${consumer.name} to catch up`, () => caughtUp(world, consumer.id), 60_000);
    }
    for (let i = 0; i < consumerCount; i++) {
      const diff = await tableMatchesStream(pool, target.admin, `${target.schema}.fleet_${i}`, {
        syncId: syncs[i]!.id,
      });
      assert.deepEqual(
        { missing: diff.missing.length, extra: diff.extra.length, stale: diff.stale.length },
        { missing: 0, extra: 0, stale: 0 },
        `table fleet_${i}`,
      );
    }
    if (process.env.FLEET_VERBOSE)
      console.log({
        spreadSeconds,
        killMoveSeconds,
        stopMoveSeconds,
        joinSeconds,
        refusals: refusals.map((e) => e.refusedBy),
        totalSeconds: (Date.now() - startedAt) / 1000,
      });
  } finally {
    await load?.stop();
    for (const w of workers) {
      w.child.kill("SIGCONT");
      await w.kill();
    }
  }
});
