/** The SSH side of the targets API: key pairs made by the service, tunnels at the door and in answers. */
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { test } from "node:test";
import { createSeedTarget } from "../helpers/consumer-world.js";
import { startTestService } from "../helpers/service.js";
import { startSshServer } from "../helpers/ssh-server.js";

const target = await createSeedTarget();
const bastion = await startSshServer();
const api = await startTestService();

const connection = {
  host: target.host,
  port: target.port,
  database: target.database,
  username: target.user,
  password: target.password,
  ssl: "disable",
};

test("POST and GET /v1/targets/postgres/ssh-keys: the public key, never the private one", async () => {
  const created = await api.request("POST", "/v1/targets/postgres/ssh-keys");
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.deepEqual(Object.keys(created.body).sort(), ["id", "inserted_at", "public_key"]);
  assert.match(created.body.public_key, /^ssh-ed25519 AAAA\S+ sequin$/);
  const read = await api.request("GET", `/v1/targets/postgres/ssh-keys/${created.body.id}`);
  assert.equal(read.status, 200);
  assert.deepEqual(read.body, created.body);
  const missing = await api.request(
    "GET",
    "/v1/targets/postgres/ssh-keys/00000000-0000-4000-8000-000000000000",
  );
  assert.equal(missing.status, 404);
  assert.equal(missing.body.code, "not_found");
});

test("a target behind the bastion, with a key made by the service", async () => {
  const key = (await api.request("POST", "/v1/targets/postgres/ssh-keys")).body;
  await bastion.authorize(key.public_key);
  const created = await api.request("POST", "/v1/targets/postgres", {
    body: {
      name: "behind-bastion",
      connection,
      ssh_tunnel: { host: bastion.host, port: bastion.port, username: bastion.username, key_id: key.id },
    },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.deepEqual(created.body.ssh_tunnel, {
    host: bastion.host,
    port: bastion.port,
    username: bastion.username,
    host_key_fingerprint: bastion.hostKeyFingerprint,
    host_key_source: "first_use",
    key_id: key.id,
    public_key: key.public_key,
  });
  const listed = await api.request("GET", "/v1/targets/postgres");
  assert.ok(!JSON.stringify(listed.body).includes("PRIVATE KEY"));
});

test("invalid tunnels are refused with the field named; an unreachable bastion with its reason", async () => {
  const post = (ssh_tunnel: Record<string, unknown>) =>
    api.request("POST", "/v1/targets/postgres", { body: { name: "refused", connection, ssh_tunnel } });
  const base = { host: bastion.host, port: bastion.port, username: bastion.username };

  const shape = await post({ ...base, private_key: "x", host_key_fingerprint: "MD5:00:11", extra: true });
  assert.equal(shape.status, 400);
  assert.deepEqual(Object.keys(shape.body.validation_errors).sort(), [
    "ssh_tunnel.extra",
    "ssh_tunnel.host_key_fingerprint",
  ]);

  const noKey = await post(base);
  assert.equal(noKey.status, 400);
  assert.deepEqual(Object.keys(noKey.body.validation_errors), ["ssh_tunnel.private_key"]);

  const badKey = await post({ ...base, private_key: "not a key" });
  assert.equal(badKey.status, 400);
  assert.deepEqual(Object.keys(badKey.body.validation_errors), ["ssh_tunnel.private_key"]);

  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const closed = (probe.address() as { port: number }).port;
  await new Promise((resolve) => probe.close(resolve));
  const key = (await api.request("POST", "/v1/targets/postgres/ssh-keys")).body;
  const down = await post({ ...base, port: closed, key_id: key.id });
  assert.equal(down.status, 422);
  assert.equal(down.body.code, "target_unreachable");
  assert.match(
    down.body.summary,
    new RegExp(`bastion unreachable: connect ECONNREFUSED 127\\.0\\.0\\.1:${closed}`),
  );
});
