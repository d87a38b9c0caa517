/**
 * The changes feed's promise at length (run by `npm run chaos`): 8 writers commit out of position order for
 * a long while, the service is stopped and started again on the same store every few seconds (its
 * address changes), and three clients of GET /v1/changes (a sync; a provider; a provider's collection)
 * restart at random points and ride through the service's restarts with only their cursor. At the end each
 * client's copy equals the stream. `SEQUIN_FEED_CHAOS_TRANSACTIONS` sets the transactions per writer.
 */
import assert from "node:assert/strict";
import { randomInt } from "node:crypto";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import pino from "pino";
import { type RunningService, startService } from "../../src/service.js";
import {
  createSync,
  type IncomingRecord,
  ingestWithin,
  notifyStreamChanged,
} from "../../src/stream/index.js";
import { onCleanup } from "../helpers/cleanup.js";
import { createTestStore } from "../helpers/database.js";
import { testConfig, testToken } from "../helpers/service.js";
import { waitFor } from "../helpers/wait.js";

const store = await createTestStore();
const pool = store.pool;
const token = testToken();
const transactionsPerWriter = Number(process.env.SEQUIN_FEED_CHAOS_TRANSACTIONS ?? 1000);
const writers = 8;
const keys = 2000;

// one config for every start: the vault key must stay the store's
const config = testConfig(store.url, token);
const startOne = () => startService(config, { log: pino({ level: "silent" }) });
let service: RunningService = await startOne();
onCleanup(() => service.stop());

let version = 0;
function change(collection: string): IncomingRecord {
  const v = ++version;
  const upstream_id = String(randomInt(keys));
  const upstream_updated_at = new Date(Date.UTC(2024, 0, 1) + v).toISOString();
  return randomInt(6) === 0
    ? { collection_id: collection, upstream_id, deleted: true, upstream_updated_at }
    : { collection_id: collection, upstream_id, payload: { v }, upstream_updated_at };
}

interface Row {
  payload: unknown;
  upstream_updated_at: string;
}

/** A client keeping only its copy and its cursor; it restarts at random and when the service is away. */
class Client {
  readonly copy = new Map<string, Row>();
  private saved: string | undefined;
  restarts = 0;

  constructor(private readonly filter: Record<string, string>) {}

  async step(waitMs: number): Promise<number> {
    const query = new URLSearchParams({
      ...this.filter,
      limit: String(1 + randomInt(500)),
      wait_ms: String(waitMs),
    });
    if (this.saved) query.set("after", this.saved);
    const cut = new AbortController();
    if (randomInt(8) === 0) setTimeout(() => cut.abort(), randomInt(50));
    let body: { data: (Row & { sequin_id: string; deleted: boolean })[]; next: string };
    try {
      const response = await fetch(`${service.url}/v1/changes?${query}`, {
        headers: { authorization: `Bearer ${token}` },
        signal: cut.signal,
      });
      body = await response.json();
      if (response.status === 503) throw new Error("the service is stopping");
      assert.equal(response.status, 200, JSON.stringify(body));
    } catch (error) {
      if (error instanceof assert.AssertionError) throw error;
      this.restarts++; // cut by us, or the service is away: start again from the saved cursor
      await sleep(20);
      return 0;
    }
    const crashAt = randomInt(5) === 0 ? randomInt(body.data.length + 1) : -1;
    for (const [i, c] of body.data.entries()) {
      if (i === crashAt) break;
      if (c.deleted) this.copy.delete(c.sequin_id);
      else this.copy.set(c.sequin_id, { payload: c.payload, upstream_updated_at: c.upstream_updated_at });
    }
    if (crashAt >= 0) {
      this.restarts++;
      return 0;
    }
    this.saved = body.next;
    return body.data.length;
  }
}

async function truthOf(filter: { syncId?: string; provider?: string; collection?: string }) {
  const { rows } = await pool.query<Row & { sequin_id: string }>(
    `select sequin_id, payload,
            to_char(upstream_updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as upstream_updated_at
     from sequin_records
     where not deleted and ($1::uuid is null or sync_id = $1) and ($2::text is null or provider = $2)
       and ($3::text is null or collection_id = $3)`,
    [filter.syncId ?? null, filter.provider ?? null, filter.collection ?? null],
  );
  return new Map(
    rows.map((r) => [r.sequin_id, { payload: r.payload, upstream_updated_at: r.upstream_updated_at }]),
  );
}

function differences(copy: Map<string, Row>, truth: Map<string, Row>): string[] {
  const wrong: string[] = [];
  for (const [id, row] of truth) {
    const seen = copy.get(id);
    if (!seen) wrong.push(`${id}: missing`);
    else if (JSON.stringify(seen) !== JSON.stringify(row)) wrong.push(`${id}: stale`);
  }
  for (const id of copy.keys()) if (!truth.has(id)) wrong.push(`${id}: extra`);
  return wrong;
}

test("feed clients ride out random restarts of their own and of the service, under out-of-order commits", async (t) => {
  const syncs = [
    await createSync(pool, { name: "a", provider: "hubspot" }),
    await createSync(pool, { name: "b", provider: "hubspot" }),
  ];

  let writing = true;
  async function writer(): Promise<void> {
    for (let n = 0; n < transactionsPerWriter; n++) {
      const sync = syncs[randomInt(syncs.length)]!;
      const batch = new Map<string, IncomingRecord>();
      for (let r = 0; r < 1 + randomInt(20); r++) {
        const record = change(randomInt(3) === 0 ? "deal" : "contact");
        batch.set(`${record.collection_id}/${record.upstream_id}`, record);
      }
      const client = await pool.connect();
      try {
        await client.query("begin");
        const { provider } = await ingestWithin(client, sync.id, [...batch.values()]);
        await sleep(randomInt(50));
        await client.query("commit");
        notifyStreamChanged(pool, provider);
      } catch (error) {
        await client.query("rollback");
        throw error;
      } finally {
        client.release();
      }
    }
  }

  let serviceRestarts = 0;
  async function restarter(): Promise<void> {
    while (writing) {
      await sleep(1000 + randomInt(2000));
      if (!writing) return;
      await service.stop();
      service = await startOne();
      serviceRestarts++;
    }
  }

  const clients = [
    { client: new Client({ sync_id: syncs[0]!.id }), truth: { syncId: syncs[0]!.id } },
    { client: new Client({ provider: "hubspot" }), truth: { provider: "hubspot" } },
    {
      client: new Client({ provider: "hubspot", collection_id: "deal" }),
      truth: { provider: "hubspot", collection: "deal" },
    },
  ];
  const readers = clients.map(async ({ client }) => {
    while (writing) await client.step(randomInt(2) === 0 ? 0 : randomInt(2000));
  });
  const restarts = restarter();
  await Promise.all(Array.from({ length: writers }, writer));
  writing = false;
  await Promise.all([...readers, restarts]);

  for (const { client, truth: filter } of clients) {
    const truth = await truthOf(filter);
    await waitFor(
      "the client to catch up",
      async () => (await client.step(0)) === 0 && differences(client.copy, truth).length === 0,
      60_000,
    ).catch(() => {}); // the assertion below says what differs
    const wrong = differences(client.copy, truth);
    assert.deepEqual(wrong.slice(0, 10), [], `${JSON.stringify(filter)}: ${wrong.length} records differ`);
    assert.ok(truth.size > 100, `${JSON.stringify(filter)} has many live records`);
  }
  assert.ok(serviceRestarts > 0, "the service restarted while clients read");
  t.diagnostic(
    `${writers * transactionsPerWriter} transactions, ${serviceRestarts} service restarts, client restarts ${clients.map((c) => c.client.restarts).join(", ")}`,
  );
});
