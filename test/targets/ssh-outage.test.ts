/**
 * A bastion outage is a target outage: while a consumer writes through the SSH tunnel and writers keep
 * ingesting, the SSH connections are cut (sshd still up), then sshd itself is killed and started again on
 * the same port. The consumer waits for the target, comes back by itself, and the table ends equal to the
 * stream.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { createSync, ingest } from "../../src/stream/index.js";
import { onCleanup } from "../helpers/cleanup.js";
import {
  caughtUp,
  createConsumerWorld,
  createSeedTarget,
  tableMatchesStream,
} from "../helpers/consumer-world.js";
import { randomVersions, startIngestLoad } from "../helpers/convergence.js";
import { sshKeygenPair, startSshServer } from "../helpers/ssh-server.js";
import { waitFor } from "../helpers/wait.js";

test("the tunnel cut and the bastion killed mid-stream: waiting_for_target, then convergence", async () => {
  const world = await createConsumerWorld();
  onCleanup(() => world.targets.close());
  const target = await createSeedTarget();
  const bastion = await startSshServer();
  const key = await sshKeygenPair();
  await bastion.authorize(key.publicKey);
  const pool = world.store.pool;
  const sync = await createSync(pool, { name: "bastion", provider: "bastion" });
  const clock = { now: 0 };
  for (let i = 0; i < 20; i++) await ingest(pool, sync.id, randomVersions(1000, 20_000, clock));

  const registered = await world.targets.create({
    name: "behind-bastion",
    connection: {
      host: target.host,
      port: target.port,
      database: target.database,
      username: target.user,
      password: target.password,
      ssl: "disable",
    },
    ssh_tunnel: {
      host: bastion.host,
      port: bastion.port,
      username: bastion.username,
      private_key: key.privateKey,
      host_key_fingerprint: bastion.hostKeyFingerprint,
    },
  });
  const consumer = await world.consumers.create({
    name: "behind-bastion",
    target_id: registered.id,
    filter: { provider: "bastion" },
    table: { schema: target.schema, name: "behind_bastion" },
  });
  await target.admin.query(consumer.create_table_sql);
  await target.admin.query(`grant all on all tables in schema ${target.schema} to ${target.user}`);
  await world.consumers.start(consumer.id);
  const load = startIngestLoad(pool, [sync.id], 20_000);
  const upserted = async () => (await world.consumers.get(consumer.id)).stats.upserted;

  // 1. the SSH connection drops under the consumer; sshd still answers, so the tunnel is made again
  await waitFor("the backfill to be under way", async () => (await upserted()) > 0);
  assert.ok((await bastion.cutConnections()) > 0, "no SSH connection to cut");
  const before = await upserted();
  await waitFor("writes through a new SSH connection", async () => (await upserted()) > before, 60_000);

  // 2. the bastion goes away: the consumer waits for its target, and says why
  await bastion.kill();
  let seen = "";
  const waiting = await waitFor("waiting_for_target", async () => {
    const c = await world.consumers.get(consumer.id);
    seen = `${c.state} ${c.stats.upserted} ${c.health.notes.join(" ")}`;
    return c.state === "waiting_for_target" ? c : undefined;
  }).catch((error: Error) => {
    throw new Error(`${error.message} (last seen: ${seen})`);
  });
  assert.equal(waiting.health.status, "unhealthy");
  await waitFor("the reason to name the bastion", async () => {
    const { rows } = await pool.query(
      "select last_error->>'message' as m from sequin_consumers where id = $1",
      [consumer.id],
    );
    return /bastion unreachable: connect ECONNREFUSED/.test(rows[0].m ?? "");
  });
  const batches = load.batches;
  await waitFor("writers to go on during the outage", () => load.batches > batches + 5);

  // 3. the bastion is back on the same port: the consumer resumes by itself and converges
  await bastion.start();
  await load.stop();
  await waitFor("catching up", () => caughtUp(world, consumer.id), 60_000);
  const diff = await tableMatchesStream(pool, target.admin, `${target.schema}.behind_bastion`, {
    provider: "bastion",
  });
  assert.deepEqual(diff, { missing: [], extra: [], stale: [] });
  const events = (await world.consumers.events(consumer.id)).map((e) => e.to_state);
  assert.ok(events.includes("waiting_for_target"), String(events));
  assert.equal((await world.consumers.get(consumer.id)).health.status, "healthy");
});
