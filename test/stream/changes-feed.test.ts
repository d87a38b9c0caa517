/**
 * The changes feed keeps the consumers' promise (invariant 3, no skipped change) for a client of our HTTP
 * API that keeps nothing but its copy and its cursor: 8 writers hold their transactions open for random
 * times, so commits land out of position order, while clients read GET /v1/changes with random limits and
 * long polls and restart at random points (mid-request, mid-page, before saving the cursor). Each client's
 * copy must equal the stream. Also: the cursor's encoding and the page statement on real Postgres.
 */
import assert from "node:assert/strict";
import { randomInt } from "node:crypto";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { decodeFeedCursor, encodeFeedCursor, feedBinding } from "../../src/stream/feed-cursor.js";
import { feedPageSql, readFeedPage } from "../../src/stream/feed-queries.js";
import {
  createSync,
  type IncomingRecord,
  ingestWithin,
  notifyStreamChanged,
  streamStart,
} from "../../src/stream/index.js";
import { startTestService } from "../helpers/service.js";
import { waitFor } from "../helpers/wait.js";

const api = await startTestService();
const pool = api.store.pool;

const writers = 8;
const transactionsPerWriter = 25;
const keys = 150;

test("the cursor: opaque, round trip, bound to its store and its filter", () => {
  const binding = feedBinding("store-a", { syncId: "6F1C7B2E-0000-4000-8000-000000000001" }, null);
  const cursor = encodeFeedCursor({ txid: "18446744073709551615", position: "9223372036854775807" }, binding);
  assert.match(cursor, /^[A-Za-z0-9_-]+$/);
  assert.deepEqual(decodeFeedCursor(cursor, binding), {
    ok: true,
    position: { txid: "18446744073709551615", position: "9223372036854775807" },
  });
  const sameSyncLowerCase = feedBinding("store-a", { syncId: "6f1c7b2e-0000-4000-8000-000000000001" }, null);
  assert.equal(decodeFeedCursor(cursor, sameSyncLowerCase).ok, true);
  const problem = (text: string, b = binding) => {
    const decoded = decodeFeedCursor(text, b);
    return decoded.ok ? "accepted" : decoded.problem;
  };
  assert.match(
    problem(cursor, feedBinding("store-b", { syncId: "6f1c7b2e-0000-4000-8000-000000000001" }, null)),
    /another Sequin store/,
  );
  assert.match(problem(cursor, feedBinding("store-a", { provider: "stripe" }, null)), /another filter/);
  assert.match(
    problem(cursor, feedBinding("store-a", { syncId: "6f1c7b2e-0000-4000-8000-000000000001" }, "deal")),
    /another filter/,
  );
  const [, , , store, filter] = Buffer.from(cursor, "base64url").toString().split(".");
  const raw = (text: string) => Buffer.from(text).toString("base64url");
  for (const bad of [
    "",
    "x",
    `${cursor}=`,
    raw(`2.1.1.${store}.${filter}`),
    raw(`1.18446744073709551616.1.${store}.${filter}`), // past xid8
    raw(`1.1.9223372036854775808.${store}.${filter}`), // past bigint
    raw(`1.-1.1.${store}.${filter}`),
    raw(`1.1.1.${store}`),
  ]) {
    assert.match(problem(bad), /not a cursor of this feed/, bad);
  }
});

test("the page statement: values as parameters, the watermark rule, a bounded scan", async () => {
  const sql = feedPageSql({ provider: "x'; drop table sequin_records; --" });
  assert.doesNotMatch(sql, /drop table/);
  assert.match(sql, /r\.provider = \$1/);
  assert.match(sql, /r\.txid < \(select sequin_stream_watermark\(\)\)/);
  assert.match(feedPageSql({ syncId: "x" }), /r\.sync_id = \$1::uuid/);

  const sync = await createSync(pool, { name: "page", provider: "page" });
  const empty = await readFeedPage(pool, { syncId: sync.id }, null, streamStart, 10, 10);
  assert.deepEqual(empty, { changes: [], scannedTo: null, cursorKnown: true });
  await write(sync.id, [record("deal", "1", 1), record("contact", "1", 2), record("contact", "2", 3)]);
  const contacts = await readFeedPage(pool, { syncId: sync.id }, "contact", streamStart, 1, 2);
  assert.deepEqual(
    contacts.changes.map((c) => c.collection_id),
    ["contact"],
  );
  assert.ok(contacts.scannedTo, "the scan reports where it ended");
  const onlyDeals = await readFeedPage(pool, { syncId: sync.id }, "nothing", streamStart, 2, 2);
  assert.deepEqual(onlyDeals.changes, []);
  assert.deepEqual(onlyDeals.scannedTo, contacts.scannedTo, "the scan walked 2 changes of other collections");
  const ahead = await readFeedPage(
    pool,
    { syncId: sync.id },
    null,
    { txid: "99999999999", position: "0" },
    1,
    1,
  );
  assert.equal(ahead.cursorKnown, false);
});

test("the page statement reads payloads by key, never by a scan of the whole stream", async () => {
  const crowd = [];
  for (const name of ["plan-a", "plan-b", "plan-c"])
    crowd.push(await createSync(pool, { name, provider: "plan" }));
  for (const s of crowd) {
    for (let b = 0; b < 3; b++) {
      await write(
        s.id,
        Array.from({ length: 5000 }, (_, i) => ({
          collection_id: i % 10 ? "contact" : "deal",
          upstream_id: `${b}-${i}`,
          payload: { i, text: "x".repeat(200) },
          upstream_updated_at: "2024-01-01T00:00:00Z",
        })),
      );
    }
  }
  await pool.query("analyze sequin_records");
  for (const [filter, value, collection] of [
    [{ syncId: crowd[1]!.id }, crowd[1]!.id, null],
    [{ provider: "plan" }, "plan", null],
    [{ syncId: crowd[1]!.id }, crowd[1]!.id, "deal"],
  ] as const) {
    const { rows } = await pool.query<{ "QUERY PLAN": string }>(`explain ${feedPageSql(filter)}`, [
      value,
      "0",
      "0",
      10_000,
      collection,
      1000,
    ]);
    const plan = rows.map((r) => r["QUERY PLAN"]).join("\n");
    assert.doesNotMatch(plan, /Seq Scan on sequin_records/, plan);
    assert.match(plan, /Index Scan using sequin_records_pkey/, plan);
  }
});

let version = 0;
function record(collection: string, key: string, v = ++version, deleted = false): IncomingRecord {
  const upstream_updated_at = new Date(Date.UTC(2024, 0, 1) + v).toISOString();
  return deleted
    ? { collection_id: collection, upstream_id: key, deleted: true, upstream_updated_at }
    : { collection_id: collection, upstream_id: key, payload: { v, key }, upstream_updated_at };
}

/** One write transaction; `hold` keeps it open after its rows are in, so others commit meanwhile. */
async function write(syncId: string, records: IncomingRecord[], hold = 0): Promise<bigint> {
  const client = await pool.connect();
  try {
    await client.query("begin");
    const { provider } = await ingestWithin(client, syncId, records);
    const { rows } = await client.query<{ top: string | null }>(
      "select max(position)::text as top from sequin_records where sync_id = $1 and txid = pg_current_xact_id()",
      [syncId],
    );
    if (hold > 0) await sleep(hold);
    await client.query("commit");
    notifyStreamChanged(pool, provider);
    return BigInt(rows[0]!.top ?? 0);
  } catch (error) {
    await client.query("rollback");
    throw error;
  } finally {
    client.release();
  }
}

interface Row {
  payload: unknown;
  upstream_updated_at: string;
}

/**
 * A client of the feed that keeps only its copy (its table) and its saved cursor. It restarts at random:
 * while a request is in flight, and in the middle of applying a page, before the cursor is saved (the rows
 * applied so far stay: applying is at-least-once).
 */
class RestartingClient {
  readonly copy = new Map<string, Row>();
  private saved: string | undefined;
  restarts = 0;
  requests = 0;

  constructor(private readonly filter: Record<string, string>) {}

  async step(waitMs: number): Promise<number> {
    this.requests++;
    const query = new URLSearchParams({
      ...this.filter,
      limit: String(1 + randomInt(60)),
      wait_ms: String(waitMs),
    });
    if (this.saved) query.set("after", this.saved);
    const cut = new AbortController();
    if (randomInt(6) === 0) setTimeout(() => cut.abort(), randomInt(30));
    let body: { data: (Row & { sequin_id: string; deleted: boolean })[]; next: string };
    try {
      const response = await fetch(`${api.url}/v1/changes?${query}`, {
        headers: { authorization: `Bearer ${api.token}` },
        signal: cut.signal,
      });
      body = await response.json();
      assert.equal(response.status, 200, JSON.stringify(body));
    } catch (error) {
      if (!cut.signal.aborted) throw error;
      this.restarts++;
      return 0;
    }
    const crashAt = randomInt(4) === 0 ? randomInt(body.data.length + 1) : -1;
    for (const [i, change] of body.data.entries()) {
      if (i === crashAt) break;
      if (change.deleted) this.copy.delete(change.sequin_id);
      else
        this.copy.set(change.sequin_id, {
          payload: change.payload,
          upstream_updated_at: change.upstream_updated_at,
        });
    }
    if (crashAt >= 0) {
      this.restarts++;
      return 0;
    }
    this.saved = body.next;
    return body.data.length;
  }
}

/** The live records of the stream for a sync (and collection), as the feed shows them. */
async function streamRows(syncId: string, collection: string | null): Promise<Map<string, Row>> {
  const { rows } = await pool.query<Row & { sequin_id: string }>(
    `select sequin_id, payload,
            to_char(upstream_updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as upstream_updated_at
     from sequin_records where sync_id = $1 and not deleted and ($2::text is null or collection_id = $2)`,
    [syncId, collection],
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
    else if (JSON.stringify(seen) !== JSON.stringify(row)) wrong.push(`${id}: stale ${JSON.stringify(seen)}`);
  }
  for (const id of copy.keys()) if (!truth.has(id)) wrong.push(`${id}: extra`);
  return wrong;
}

test("clients of the feed that restart at random end with copies equal to the stream, under out-of-order commits", async (t) => {
  const sync = await createSync(pool, { name: "race", provider: "hubspot" });
  const commits: bigint[] = [];

  async function writer(): Promise<void> {
    for (let n = 0; n < transactionsPerWriter; n++) {
      const batch = new Map<string, IncomingRecord>(); // one version per key per transaction
      for (let r = 0; r < 1 + randomInt(8); r++) {
        const collection = randomInt(3) === 0 ? "deal" : "contact";
        const key = String(randomInt(keys));
        batch.set(`${collection}/${key}`, record(collection, key, ++version, randomInt(5) === 0));
      }
      commits.push(await write(sync.id, [...batch.values()], randomInt(25)));
    }
  }

  const clients = [
    { client: new RestartingClient({ sync_id: sync.id }), collection: null },
    {
      client: new RestartingClient({ provider: "hubspot", collection_id: "contact" }),
      collection: "contact",
    },
  ];
  let writing = true;
  const readers = clients.map(async ({ client }) => {
    while (writing) await client.step(randomInt(2) === 0 ? 0 : randomInt(300));
  });
  const began = Date.now();
  await Promise.all(Array.from({ length: writers }, writer));
  const wrote = Date.now();
  writing = false;
  await Promise.all(readers);
  t.diagnostic(`writers ${wrote - began} ms, readers stopped ${Date.now() - wrote} ms later`);

  for (const { client, collection } of clients) {
    const truth = await streamRows(sync.id, collection);
    assert.ok(truth.size > 50, "the writers left many live records");
    // after the writers, the client reads until it has caught up (an empty answer), then compares
    await waitFor(
      "the client to catch up",
      async () =>
        (await client.step(0)) === 0 && client.copy.size > 0 && differences(client.copy, truth).length === 0,
      15_000,
    ).catch(() => {}); // the assertion below says what differs
    assert.deepEqual(
      differences(client.copy, truth),
      [],
      `copy of ${JSON.stringify(collection)} equals the stream`,
    );
    t.diagnostic(`caught up at ${Date.now() - began} ms`);
    assert.ok(client.restarts >= 5, `the client restarted ${client.restarts} times`);
  }
  let late = 0;
  let highest = 0n;
  for (const top of commits) {
    if (top < highest) late++;
    highest = top > highest ? top : highest;
  }
  t.diagnostic(
    `${commits.length} commits, ${late} after a commit of later positions; restarts ${clients.map((c) => c.client.restarts).join(", ")} over ${clients.map((c) => c.client.requests).join(", ")} requests`,
  );
  assert.ok(late > 10, `commits landed out of position order (${late} of ${commits.length})`);
});
