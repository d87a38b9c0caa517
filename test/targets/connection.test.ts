import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmod, chown, copyFile, mkdir } from "node:fs/promises";
import { createConnection, createServer, type Server, Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import type { PeerCertificate } from "node:tls";
import type pg from "pg";
import { PostgresCluster } from "../../src/db/postgres-cluster.js";
import {
  connectTarget,
  type TargetConnection,
  targetClientConfig,
  testTargetConnection,
} from "../../src/targets/postgres/index.js";
import { connectionFromUrl, createSeedUser, createTargetDatabase, uniqueName } from "./target-helpers.js";

const conn: TargetConnection = {
  host: "db.example.com",
  port: 6543,
  database: "app",
  username: "sequin",
  password: "secret",
};

test("the ssl setting maps to explicit TLS options", () => {
  const base = {
    host: "db.example.com",
    port: 6543,
    database: "app",
    user: "sequin",
    password: "secret",
    application_name: "sequin",
    connectionTimeoutMillis: 5000,
    keepAlive: true,
  };
  assert.deepEqual(targetClientConfig({ ...conn, ssl: "disable" }), { ...base, ssl: false });
  const prefer = { rejectUnauthorized: false, servername: "db.example.com" };
  assert.deepEqual(targetClientConfig(conn), { ...base, ssl: prefer });
  assert.deepEqual(targetClientConfig({ ...conn, ssl: "prefer" }), { ...base, ssl: prefer });
  assert.deepEqual(targetClientConfig({ ...conn, ssl: "require" }), { ...base, ssl: prefer });
  const full = targetClientConfig({ ...conn, ssl: "verify-full" }).ssl as Record<string, unknown>;
  assert.equal(full.rejectUnauthorized, true);
  assert.equal(full.servername, "db.example.com");
  // No SNI for an IP address (RFC 6066).
  assert.deepEqual(targetClientConfig({ ...conn, host: "10.1.2.3", ssl: "require" }).ssl, {
    rejectUnauthorized: false,
  });
  const via = targetClientConfig(
    { ...conn, ssl: "require" },
    { via: { host: "127.0.0.1", port: 40000 }, connectTimeoutMs: 250 },
  );
  assert.deepEqual(via, {
    ...base,
    host: "127.0.0.1",
    port: 40000,
    connectionTimeoutMillis: 250,
    ssl: prefer,
  });
});

test("verify-full checks the certificate against the target host, also through a forwarder", () => {
  const ssl = targetClientConfig(
    { ...conn, ssl: "verify-full" },
    { via: { host: "localhost", port: 1 } },
  ).ssl;
  const check = (ssl as { checkServerIdentity: (host: string, cert: PeerCertificate) => Error | undefined })
    .checkServerIdentity;
  const cert = (name: string) =>
    ({ subject: { CN: name }, subjectaltname: `DNS:${name}` }) as unknown as PeerCertificate;
  assert.equal(check("localhost", cert("db.example.com")), undefined);
  assert.ok(check("localhost", cert("localhost")) instanceof Error);
});

async function show(client: pg.Client, setting: string): Promise<string> {
  return (await client.query(`select current_setting('${setting}') as v`)).rows[0].v;
}

async function usesTls(client: pg.Client): Promise<boolean> {
  return (await client.query("select ssl from pg_stat_ssl where pid = pg_backend_pid()")).rows[0].ssl;
}

async function withClient<T>(promise: Promise<pg.Client>, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = await promise;
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

function listen(server: Server): Promise<number> {
  after(() => new Promise((resolve) => server.close(resolve)));
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve((server.address() as { port: number }).port)),
  );
}

/** A loopback TCP forwarder to host:port, as an SSH tunnel provides. */
function forwarder(host: string, port: number): Promise<number> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    const upstream = createConnection(port, host);
    for (const s of [socket, upstream]) {
      sockets.add(s);
      s.on("error", () => {});
      s.on("close", () => sockets.delete(s));
    }
    socket.pipe(upstream).pipe(socket);
  });
  after(() => {
    for (const s of sockets) s.destroy();
  });
  return listen(server);
}

test("a plain server: prefer falls back, disable connects, require is refused", async () => {
  const { conn: admin } = await createTargetDatabase();
  await withClient(connectTarget({ ...admin, ssl: "prefer" }), async (client) =>
    assert.equal(await usesTls(client), false),
  );
  await withClient(connectTarget({ ...admin, ssl: "disable" }), async (client) =>
    assert.equal(await usesTls(client), false),
  );
  const result = await testTargetConnection({ ...admin, ssl: "require" });
  assert.equal(result.error, "TLS unavailable: The server does not support SSL connections");
});

test("sessions are named sequin and free of any statement_timeout", async () => {
  const db = await createTargetDatabase();
  const user = await createSeedUser(db, "sequin");
  await db.admin.query(`alter role "${user.username}" set statement_timeout = '1ms'`);
  await withClient(connectTarget(user), async (client) => {
    assert.equal(await show(client, "application_name"), "sequin");
    assert.equal(await show(client, "statement_timeout"), "0");
    await client.query("select pg_sleep(0.01)");
  });
});

test("testTargetConnection reports ok, or the cause and the database's message", async () => {
  const db = await createTargetDatabase();
  const user = await createSeedUser(db, "sequin");
  const ok = await testTargetConnection(user);
  assert.equal(ok.ok, true);
  assert.equal(ok.error, undefined);
  assert.ok(Number.isInteger(ok.latency_ms) && ok.latency_ms >= 0);

  const failures: [TargetConnection, string][] = [
    [{ ...user, host: "127.0.0.1", port: 1 }, "connection refused: connect ECONNREFUSED 127.0.0.1:1"],
    [
      { ...user, password: "x" },
      `authentication failed: password authentication failed for user "${user.username}"`,
    ],
    [{ ...user, database: "nope_db" }, 'database "nope_db" does not exist'],
  ];
  for (const [target, error] of failures) {
    const result = await testTargetConnection(target);
    assert.deepEqual({ ok: result.ok, error: result.error }, { ok: false, error });
  }

  // A server that accepts the connection and never answers.
  const silent = new Set<Socket>();
  const port = await listen(createServer((socket) => silent.add(socket)));
  const timeout = await testTargetConnection({ ...user, host: "127.0.0.1", port }, { connectTimeoutMs: 200 });
  for (const socket of silent) socket.destroy();
  assert.deepEqual({ ok: timeout.ok, error: timeout.error }, { ok: false, error: "timeout after 200 ms" });
  assert.ok(timeout.latency_ms >= 190, String(timeout.latency_ms));
});

test("a local forwarder or a supplied socket replaces the host, as an SSH tunnel will", async () => {
  const { conn: admin } = await createTargetDatabase();
  const port = await forwarder(admin.host, admin.port);
  const unresolvable = { ...admin, host: "target.invalid" };
  assert.equal((await testTargetConnection(unresolvable)).ok, false);
  assert.deepEqual(
    { ...(await testTargetConnection(unresolvable, { via: { host: "127.0.0.1", port } })), latency_ms: 0 },
    { ok: true, latency_ms: 0 },
  );
  let sockets = 0;
  const stream = () => {
    sockets++;
    const socket = new Socket();
    const connect = socket.connect.bind(socket);
    // pg asks for target.invalid; the socket goes to the real server instead.
    return Object.assign(socket, { connect: () => connect(admin.port, admin.host) });
  };
  const preferred = { ...unresolvable, ssl: "prefer" as const };
  await withClient(connectTarget(preferred, { stream }), async (client) =>
    assert.equal(await show(client, "application_name"), "sequin"),
  );
  // A first TLS attempt refused by the plain server, then a plain one, each on a fresh socket.
  assert.equal(sockets, 2);
});

/** A Postgres server of our own with TLS on, using the test-only self-signed certificate for localhost. */
async function startTlsServer(): Promise<TargetConnection> {
  const dataDir = join(tmpdir(), uniqueName("sequin-tls"));
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const cert = join(dataDir, "server.crt");
  const key = join(dataDir, "server.key");
  await copyFile(new URL("fixtures/tls-server.crt", import.meta.url), cert);
  await copyFile(new URL("fixtures/tls-server.key", import.meta.url), key);
  // git does not keep file modes: Postgres refuses a key others can read
  await chmod(key, 0o600);
  if (process.getuid?.() === 0) {
    // The server runs as the postgres OS user and insists on owning its key.
    const uid = Number(execFileSync("id", ["-u", "postgres"]).toString());
    const gid = Number(execFileSync("id", ["-g", "postgres"]).toString());
    for (const file of [dataDir, cert, key]) await chown(file, uid, gid);
  }
  const cluster = new PostgresCluster({
    dataDir,
    settings: { ssl: "on", ssl_cert_file: cert, ssl_key_file: key, fsync: "off" },
  });
  after(() => cluster.destroy());
  await cluster.start();
  return { ...connectionFromUrl(cluster.url()), host: "localhost" };
}

test("a TLS server: require and prefer use TLS, verify-full refuses an untrusted certificate", async () => {
  const server = await startTlsServer();
  for (const ssl of ["require", "prefer"] as const) {
    await withClient(connectTarget({ ...server, ssl }), async (client) =>
      assert.equal(await usesTls(client), true),
    );
  }
  await withClient(connectTarget({ ...server, ssl: "disable" }), async (client) =>
    assert.equal(await usesTls(client), false),
  );
  const untrusted = await testTargetConnection({ ...server, ssl: "verify-full" });
  assert.equal(untrusted.error, "TLS certificate not trusted: self-signed certificate");

  const port = await forwarder("127.0.0.1", server.port);
  const tunneled = connectTarget(
    { ...server, host: "db.example.invalid", ssl: "require" },
    { via: { host: "127.0.0.1", port } },
  );
  await withClient(tunneled, async (client) => assert.equal(await usesTls(client), true));
  assert.equal((await testTargetConnection({ ...server, password: "wrong" })).ok, false);
});
