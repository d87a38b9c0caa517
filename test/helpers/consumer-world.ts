/**
 * A store, a target database prepared exactly as the seed's setup says (schema, least-privilege user,
 * grants), and the consumer machinery wired together in-process, for consumer tests.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import pino from "pino";
import { Consumers, ConsumerWorker, type WorkerOptions } from "../../src/consumer/index.js";
import { Targets } from "../../src/targets/index.js";
import { setupSql } from "../../src/targets/postgres/index.js";
import { Vault } from "../../src/vault/index.js";
import { onCleanup } from "./cleanup.js";
import { createDatabase, createTestStore, type TestStore } from "./database.js";

export const fastWorkerOptions: WorkerOptions = {
  leaseSeconds: 5,
  tickMs: 100,
  runner: {
    batchSize: 1000,
    pollIntervalMs: 200,
    probeBackoff: { initialMs: 50, maxMs: 500 },
    retryBackoff: { initialMs: 50, maxMs: 500 },
    storeRetryBackoff: { initialMs: 50, maxMs: 500 },
    probeTimeoutMs: 1000,
  },
  // a probe of a healthy target may take more than a second while a busy machine runs four test files at
  // once; a false "unreachable" would send a failing consumer to waiting_for_target and back (a new incident)
  targetProbe: { intervalMs: 300, timeoutMs: 3000 },
};

export interface TargetDatabase {
  /** superuser URL of the target database */
  adminUrl: string;
  host: string;
  port: number;
  database: string;
  schema: string;
  user: string;
  password: string;
  admin: pg.Pool;
}

/** A target database with the seed's schema, user and grants, on the test server or the given one. */
export async function createSeedTarget(serverUrl?: string): Promise<TargetDatabase> {
  let adminUrl: string;
  if (serverUrl) {
    const name = `target_${randomBytes(5).toString("hex")}`;
    const c = new pg.Client({ connectionString: serverUrl });
    await c.connect();
    await c.query(`create database ${name}`);
    await c.end();
    const u = new URL(serverUrl);
    u.pathname = `/${name}`;
    adminUrl = u.toString();
  } else {
    adminUrl = await createDatabase("target");
  }
  const url = new URL(adminUrl);
  const suffix = randomBytes(4).toString("hex");
  const target: TargetDatabase = {
    adminUrl,
    host: url.hostname,
    port: Number(url.port),
    database: url.pathname.slice(1),
    schema: "sequin",
    user: `sequin_${suffix}`,
    password: randomBytes(12).toString("base64url"),
    admin: new pg.Pool({ connectionString: adminUrl, max: 3 }),
  };
  target.admin.on("error", () => {});
  await target.admin.query(
    setupSql({
      schema: target.schema,
      user: target.user,
      database: target.database,
      password: target.password,
    }),
  );
  onCleanup(async () => {
    await target.admin.end();
  });
  return target;
}

export interface ConsumerWorld {
  store: TestStore;
  vaultKey: Buffer;
  targets: Targets;
  consumers: Consumers;
  /** The in-process worker, unless the test runs workers in processes of their own. */
  worker: ConsumerWorker | undefined;
}

export async function createConsumerWorld(
  options: WorkerOptions = fastWorkerOptions,
  {
    inProcessWorker = true,
    storeSettings = {},
  }: { inProcessWorker?: boolean; storeSettings?: Record<string, string> } = {},
): Promise<ConsumerWorld> {
  const store = await createTestStore(storeSettings);
  const vaultKey = randomBytes(32);
  const targets = new Targets(store.pool, Vault.fromKey(vaultKey));
  let worker: ConsumerWorker | undefined;
  if (inProcessWorker) {
    worker = new ConsumerWorker(
      {
        store: store.pool,
        storeUrl: store.url,
        log: pino({ level: "silent" }),
        connectTarget: (id) => targets.connect(id),
        probeTarget: (id) => targets.test(id),
      },
      options,
    );
    await worker.start();
    const started = worker;
    onCleanup(() => started.stop());
  }
  const consumers = new Consumers({
    pool: store.pool,
    targets,
    lagAlertSeconds: 300,
    ...(worker ? { worker } : {}),
  });
  return { store, vaultKey, targets, consumers, worker };
}

/** Registers the seed target and creates, sets up and starts a consumer on it. */
export async function startSeedConsumer(
  world: ConsumerWorld,
  target: TargetDatabase,
  name: string,
  filter: { provider: string } | { sync_id: string },
  tableName = name,
) {
  const registered = await world.targets.create({
    name: `target-${name}`,
    connection: {
      host: target.host,
      port: target.port,
      database: target.database,
      username: target.user,
      password: target.password,
      ssl: "disable",
    },
  });
  const consumer = await world.consumers.create({
    name,
    target_id: registered.id,
    filter,
    table: { schema: target.schema, name: tableName },
  });
  await target.admin.query(consumer.create_table_sql.replace("create table ", "create table if not exists "));
  await target.admin.query(`grant all on all tables in schema ${target.schema} to ${target.user}`);
  await world.consumers.start(consumer.id);
  return consumer;
}

/** Whether the consumer's position reached everything its filter has in the stream now (throws why not). */
export async function caughtUp(world: ConsumerWorld, consumerId: string): Promise<boolean> {
  const c = await world.consumers.get(consumerId);
  if (c.lag.records === 0 && (c.state === "live" || c.state === "backfilling")) return true;
  throw new Error(
    `state ${c.state}, ${c.lag.records} pending, last error: ${c.last_error?.message ?? "none"}`,
  );
}

/** The consumer's table must hold exactly the live records of the stream for its filter, newest versions. */
export async function tableMatchesStream(
  store: pg.Pool,
  target: pg.Pool,
  table: string,
  filter: { provider: string } | { syncId: string },
): Promise<{ missing: string[]; extra: string[]; stale: string[] }> {
  const where = "provider" in filter ? "provider = $1" : "sync_id = $1";
  const value = "provider" in filter ? filter.provider : filter.syncId;
  const expected = await store.query<{ sequin_id: string; row: string }>(
    `select sequin_id, concat_ws('|', sync_id, collection_id, upstream_id, payload::text,
        to_char(upstream_updated_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')) as row
     from sequin_records where ${where} and not deleted`,
    [value],
  );
  const actual = await target.query<{ sequin_id: string; row: string }>(
    `select sequin_id, concat_ws('|', sync_id, collection_id, upstream_id, payload::text,
        to_char(upstream_updated_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')) as row
     from ${table}`,
  );
  const want = new Map(expected.rows.map((r) => [r.sequin_id, r.row]));
  const have = new Map(actual.rows.map((r) => [r.sequin_id, r.row]));
  return {
    missing: [...want.keys()].filter((k) => !have.has(k)),
    extra: [...have.keys()].filter((k) => !want.has(k)),
    stale: [...want].filter(([k, v]) => have.has(k) && have.get(k) !== v).map(([k]) => k),
  };
}
