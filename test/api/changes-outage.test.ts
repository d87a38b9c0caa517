/**
 * The changes feed across an outage of the service's store: a long poll in flight and requests during the
 * outage answer 503 store_unavailable promptly; afterwards cursors handed out before still work, nothing
 * is lost, and long polls are woken by commits again (the LISTEN connection came back by itself).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import pino from "pino";
import { startService } from "../../src/service.js";
import { onCleanup } from "../helpers/cleanup.js";
import { startOwnCluster } from "../helpers/clusters.js";
import { apiClient, testConfig, testToken } from "../helpers/service.js";
import { waitFor } from "../helpers/wait.js";

const cluster = await startOwnCluster();
const token = testToken();
const service = await startService(testConfig(cluster.url(), token), { log: pino({ level: "silent" }) });
onCleanup(() => service.stop());
const api = apiClient(service.url, token);

test("long polls through a store outage: 503 promptly, then woken by commits again with nothing lost", async (t) => {
  const sync = (await api("POST", "/v1/syncs", { body: { name: "crm", provider: "hubspot" } })).body;
  const write = (upstream_id: string) =>
    api("POST", `/v1/syncs/${sync.id}/records`, {
      body: {
        records: [
          { collection_id: "contact", upstream_id, payload: {}, upstream_updated_at: "2024-01-01T00:00:00Z" },
        ],
      },
    });
  assert.equal((await write("before")).status, 200);
  const first = await api("GET", `/v1/changes?sync_id=${sync.id}`);
  assert.equal(first.status, 200);
  const cursor = first.body.next;

  const poll = api("GET", `/v1/changes?sync_id=${sync.id}&after=${cursor}&wait_ms=20000`);
  await sleep(150);
  const stoppedAt = Date.now();
  await cluster.stop();
  const cut = await poll;
  const cutAfter = Date.now() - stoppedAt;
  assert.equal(cut.status, 503, JSON.stringify(cut.body));
  assert.equal(cut.body.code, "store_unavailable");
  assert.ok(cutAfter < 6000, `the waiting poll answered ${cutAfter} ms into the outage`);
  const during = Date.now();
  const refused = await api("GET", `/v1/changes?sync_id=${sync.id}&after=${cursor}&wait_ms=20000`);
  assert.equal(refused.status, 503, JSON.stringify(refused.body));
  assert.ok(Date.now() - during < 5000);

  await cluster.start();
  await waitFor(
    "the feed back",
    async () => (await api("GET", `/v1/changes?sync_id=${sync.id}`)).status === 200,
    30_000,
  );
  // the cursor from before the outage still works; a commit wakes a long poll again, without the periodic
  // read's delay once the LISTEN connection is back
  let after = cursor;
  let latency = Number.POSITIVE_INFINITY;
  for (let round = 0; latency > 200 && round < 20; round++) {
    const waiting = api("GET", `/v1/changes?sync_id=${sync.id}&after=${after}&wait_ms=10000`);
    await sleep(150);
    assert.equal((await write(`after-${round}`)).status, 200);
    const committedAt = Date.now();
    const answer = await waiting;
    latency = Date.now() - committedAt;
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.deepEqual(
      answer.body.data.map((c: { upstream_id: string }) => c.upstream_id),
      [`after-${round}`],
      "the change made after the outage, and nothing else",
    );
    after = answer.body.next;
  }
  t.diagnostic(
    `waiting poll answered 503 ${cutAfter} ms into the outage; woken ${latency} ms after a commit once back`,
  );
  assert.ok(latency <= 200, `a commit woke the long poll ${latency} ms later`);
});
