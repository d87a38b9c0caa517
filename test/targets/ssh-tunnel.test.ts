/**
 * Targets behind a bastion, against a real OpenSSH server forwarding to the real test Postgres: a consumer
 * backfills and follows live changes through the tunnel; each way the tunnel can fail gives its own error;
 * keys are checked at the door, stored encrypted and never returned; a key pair made by the service works.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { createServer } from "node:net";
import { test } from "node:test";
import { SequinError } from "../../src/errors.js";
import { createSync, ingest } from "../../src/stream/index.js";
import { newTargetSchema, type SshTunnelInput, sshFingerprint } from "../../src/targets/index.js";
import { classifyTargetError } from "../../src/targets/postgres/index.js";
import { onCleanup } from "../helpers/cleanup.js";
import {
  caughtUp,
  createConsumerWorld,
  createSeedTarget,
  tableMatchesStream,
} from "../helpers/consumer-world.js";
import { randomVersions } from "../helpers/convergence.js";
import { sshKeygenPair, startSshServer } from "../helpers/ssh-server.js";
import { waitFor } from "../helpers/wait.js";

const world = await createConsumerWorld();
onCleanup(() => world.targets.close());
const target = await createSeedTarget();
const bastion = await startSshServer();
const clientKey = await sshKeygenPair();
await bastion.authorize(clientKey.publicKey);

const connection = {
  host: target.host,
  port: target.port,
  database: target.database,
  username: target.user,
  password: target.password,
  ssl: "disable" as const,
};

function tunnel(extra: Partial<SshTunnelInput> = {}): SshTunnelInput {
  return {
    host: bastion.host,
    port: bastion.port,
    username: bastion.username,
    private_key: clientKey.privateKey,
    host_key_fingerprint: bastion.hostKeyFingerprint,
    ...extra,
  };
}

let names = 0;
const name = (what: string) => `${what}-${++names}`;

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Create must refuse with target_unreachable, a message matching `pattern`, classified unreachable. */
async function refused(input: Parameters<typeof world.targets.create>[0], pattern: RegExp): Promise<string> {
  const error = await world.targets.create(input).then(
    () => assert.fail("the target was saved"),
    (e: unknown) => e,
  );
  assert.ok(error instanceof SequinError, String(error));
  assert.equal(error.code, "target_unreachable");
  assert.match(error.message, pattern);
  assert.equal(classifyTargetError(error).kind, "unreachable");
  return error.message;
}

test("a consumer backfills and follows live changes through the bastion", async () => {
  const pool = world.store.pool;
  const sync = await createSync(pool, { name: "tunneled", provider: "tunneled" });
  const clock = { now: 0 };
  for (let i = 0; i < 5; i++) await ingest(pool, sync.id, randomVersions(1000, 5000, clock));

  const registered = await world.targets.create({ name: name("tunneled"), connection, ssh_tunnel: tunnel() });
  assert.deepEqual(registered.ssh_tunnel, {
    host: bastion.host,
    port: bastion.port,
    username: bastion.username,
    host_key_fingerprint: bastion.hostKeyFingerprint,
    host_key_source: "pinned",
    key_id: null,
    public_key: clientKey.publicKey,
  });
  const consumer = await world.consumers.create({
    name: "tunneled",
    target_id: registered.id,
    filter: { provider: "tunneled" },
    table: { schema: target.schema, name: "tunneled" },
  });
  await target.admin.query(consumer.create_table_sql);
  await target.admin.query(`grant all on all tables in schema ${target.schema} to ${target.user}`);
  assert.equal((await world.consumers.verify(consumer.id)).ok, true);
  await world.consumers.start(consumer.id);
  await waitFor("the backfill through the tunnel", () => caughtUp(world, consumer.id), 60_000);

  for (let i = 0; i < 3; i++) await ingest(pool, sync.id, randomVersions(300, 5000, clock));
  await waitFor("live changes through the tunnel", async () => {
    const c = await world.consumers.get(consumer.id);
    return c.state === "live" && c.lag.records === 0;
  });
  const diff = await tableMatchesStream(pool, target.admin, `${target.schema}.tunneled`, {
    provider: "tunneled",
  });
  assert.deepEqual(diff, { missing: [], extra: [], stale: [] });

  // the consumer's sessions really come through the bastion: with sshd gone, the target cannot be reached
  await bastion.kill();
  try {
    const probe = await world.targets.test(registered.id);
    assert.equal(probe.ok, false);
    assert.match(probe.error ?? "", /^bastion unreachable: /);
  } finally {
    await bastion.start();
  }
  assert.equal((await world.targets.test(registered.id)).ok, true);
});

test("without a pinned fingerprint, the host key seen at the first connection is pinned", async () => {
  const registered = await world.targets.create({
    name: name("first-use"),
    // prefer: TLS is asked for first through the tunnel, then a plain connection when the server has none
    connection: { ...connection, ssl: "prefer" },
    ssh_tunnel: tunnel({ host_key_fingerprint: undefined }),
  });
  assert.equal(registered.ssh_tunnel?.host_key_fingerprint, bastion.hostKeyFingerprint);
  assert.equal(registered.ssh_tunnel?.host_key_source, "first_use");
  assert.equal((await world.targets.test(registered.id)).ok, true);
});

test("bastion unreachable", async () => {
  const port = await closedPort();
  await refused(
    { name: name("no-bastion"), connection, ssh_tunnel: tunnel({ port }) },
    new RegExp(
      `^cannot connect to ${target.host}:${target.port} through the bastion 127\\.0\\.0\\.1:${port}: ` +
        `bastion unreachable: connect ECONNREFUSED 127\\.0\\.0\\.1:${port}$`,
    ),
  );
});

test("bastion host key mismatch", async () => {
  const pinned = sshFingerprint(randomBytes(51));
  const message = await refused(
    { name: name("mismatch"), connection, ssh_tunnel: tunnel({ host_key_fingerprint: pinned }) },
    /bastion host key mismatch: expected SHA256:\S+ got SHA256:\S+/,
  );
  assert.ok(message.includes(`expected ${pinned} got ${bastion.hostKeyFingerprint}`), message);
});

test("bastion refused authentication", async () => {
  const stranger = await sshKeygenPair();
  await refused(
    { name: name("auth"), connection, ssh_tunnel: tunnel({ private_key: stranger.privateKey }) },
    new RegExp(
      `: bastion refused authentication for user "${bastion.username}" at 127\\.0\\.0\\.1:${bastion.port}: `,
    ),
  );
});

test("bastion refused forwarding", async () => {
  const strict = await startSshServer({ allowTcpForwarding: false });
  await strict.authorize(clientKey.publicKey);
  await refused(
    {
      name: name("no-forwarding"),
      connection,
      ssh_tunnel: tunnel({ port: strict.port, host_key_fingerprint: strict.hostKeyFingerprint }),
    },
    new RegExp(
      `: bastion refused forwarding to ${target.host}:${target.port} \\(administratively prohibited`,
    ),
  );
});

test("database unreachable from the bastion", async () => {
  const port = await closedPort();
  await refused(
    { name: name("no-db"), connection: { ...connection, port }, ssh_tunnel: tunnel() },
    new RegExp(
      `: database unreachable from the bastion: 127\\.0\\.0\\.1:${bastion.port} cannot connect to ` +
        `${target.host}:${port} \\(Connection refused\\)`,
    ),
  );
});

test("the database's own refusal still comes through the tunnel", async () => {
  await refused(
    { name: name("bad-password"), connection: { ...connection, password: "wrong" }, ssh_tunnel: tunnel() },
    /authentication failed: password authentication failed for user/,
  );
});

test("keys are checked at the door, encrypted at rest and never returned", async () => {
  const invalid = async (input: Partial<SshTunnelInput>, field: string) => {
    const error = await world.targets
      .create({ name: name("invalid"), connection, ssh_tunnel: tunnel(input) })
      .then(
        () => assert.fail("saved"),
        (e: unknown) => e as SequinError,
      );
    assert.equal(error.code, "validation_failed", error.message);
    assert.deepEqual(Object.keys(error.validationErrors ?? {}), [field]);
  };
  await invalid({ private_key: "not a key" }, "ssh_tunnel.private_key");
  await invalid({ private_key: clientKey.publicKey }, "ssh_tunnel.private_key");
  const locked = await sshKeygenPair("open sesame");
  await invalid({ private_key: locked.privateKey }, "ssh_tunnel.passphrase");
  await invalid({ private_key: locked.privateKey, passphrase: "wrong" }, "ssh_tunnel.passphrase");

  await bastion.authorize(locked.publicKey);
  const registered = await world.targets.create({
    name: name("passphrase"),
    connection,
    ssh_tunnel: tunnel({ private_key: locked.privateKey, passphrase: "open sesame" }),
  });
  assert.equal(registered.ssh_tunnel?.public_key, locked.publicKey);
  assert.equal((await world.targets.test(registered.id)).ok, true);
  const client = await world.targets.connect(registered.id);
  try {
    assert.equal((await client.query("select current_user as u")).rows[0].u, target.user);
  } finally {
    await client.end();
  }

  const views = JSON.stringify([await world.targets.get(registered.id), await world.targets.list()]);
  assert.ok(!views.includes("PRIVATE KEY") && !views.includes("open sesame"));
  const { rows } = await world.store.pool.query(
    "select ssh_tunnel::text as tunnel, ssh_secret_encrypted as secret from sequin_targets where id = $1",
    [registered.id],
  );
  assert.ok(!rows[0].tunnel.includes("PRIVATE KEY"));
  assert.ok(!rows[0].secret.toString("latin1").includes("PRIVATE KEY"));
  assert.ok(!rows[0].secret.toString("latin1").includes("open sesame"));

  const parsed = newTargetSchema.safeParse({
    name: "x",
    connection,
    ssh_tunnel: { ...tunnel(), host_key_fingerprint: "MD5:aa:bb", extra: 1 },
  });
  assert.equal(parsed.success, false);
  const paths = parsed.error!.issues.map((i) => i.path.join("."));
  assert.ok(paths.includes("ssh_tunnel.host_key_fingerprint") && paths.includes("ssh_tunnel"), String(paths));
  const neither = newTargetSchema.safeParse({
    name: "x",
    connection,
    ssh_tunnel: { ...tunnel(), private_key: undefined },
  });
  assert.deepEqual(
    neither.error?.issues.map((i) => i.path.join(".")),
    ["ssh_tunnel.private_key"],
  );
});

test("a key pair made by the service works end to end", async () => {
  const key = await world.targets.sshKeys.create();
  assert.match(key.public_key, /^ssh-ed25519 AAAA[A-Za-z0-9+/]+={0,2} sequin$/);
  assert.deepEqual(await world.targets.sshKeys.get(key.id), key);
  assert.deepEqual(Object.keys(key).sort(), ["id", "inserted_at", "public_key"]);

  // not installed on the bastion yet
  await refused(
    { name: name("generated"), connection, ssh_tunnel: tunnel({ private_key: undefined, key_id: key.id }) },
    /bastion refused authentication/,
  );
  await bastion.authorize(key.public_key);
  const registered = await world.targets.create({
    name: name("generated"),
    connection,
    ssh_tunnel: tunnel({ private_key: undefined, key_id: key.id }),
  });
  assert.equal(registered.ssh_tunnel?.key_id, key.id);
  assert.equal(registered.ssh_tunnel?.public_key, key.public_key);
  assert.equal((await world.targets.test(registered.id)).ok, true);
  const { rows } = await world.store.pool.query(
    "select private_key_encrypted from sequin_ssh_keys where id = $1",
    [key.id],
  );
  assert.ok(!rows[0].private_key_encrypted.toString("latin1").includes("PRIVATE KEY"));
});

test("changing and removing a target's tunnel", async () => {
  const registered = await world.targets.create({ name: name("changed"), connection, ssh_tunnel: tunnel() });
  const renamed = await world.targets.update(registered.id, { name: name("renamed") });
  assert.deepEqual(renamed.ssh_tunnel, registered.ssh_tunnel);

  // a wrong pin is refused and nothing changes
  await assert.rejects(
    world.targets.update(registered.id, {
      ssh_tunnel: { host_key_fingerprint: sshFingerprint(randomBytes(51)) },
    }),
    /bastion host key mismatch/,
  );
  assert.equal((await world.targets.test(registered.id)).ok, true);

  // forget the pin: the next test pins the key it sees; the stored private key stays
  const unpinned = await world.targets.update(registered.id, { ssh_tunnel: { host_key_fingerprint: null } });
  assert.equal(unpinned.ssh_tunnel?.host_key_source, "first_use");
  assert.equal(unpinned.ssh_tunnel?.host_key_fingerprint, bastion.hostKeyFingerprint);

  const other = await sshKeygenPair();
  await bastion.authorize(other.publicKey);
  const rekeyed = await world.targets.update(registered.id, {
    ssh_tunnel: { private_key: other.privateKey },
  });
  assert.equal(rekeyed.ssh_tunnel?.public_key, other.publicKey);
  assert.equal((await world.targets.test(registered.id)).ok, true);

  const direct = await world.targets.update(registered.id, { ssh_tunnel: null });
  assert.equal(direct.ssh_tunnel, null);
  assert.equal((await world.targets.test(registered.id)).ok, true);
  const { rows } = await world.store.pool.query(
    "select ssh_tunnel, ssh_secret_encrypted from sequin_targets where id = $1",
    [registered.id],
  );
  assert.deepEqual(rows[0], { ssh_tunnel: null, ssh_secret_encrypted: null });

  await assert.rejects(
    world.targets.update(registered.id, { ssh_tunnel: { host: bastion.host, port: bastion.port } }),
    (e: SequinError) => e.code === "validation_failed" && "ssh_tunnel.username" in (e.validationErrors ?? {}),
  );
  await world.targets.delete(registered.id);
});
