/**
 * The Salesforce source against the emulator, without the engine: each bug other tools had with Salesforce
 * (our sources research) as a regression test — a second holding more records than a page (airbyte #17148),
 * records that commit late with an older stamp (#27146), records at the edge of a window (#34107), records
 * untouched for years (#37528), deletes (#10155; jsforce #442: no deleted-at filter on queryAll); and a query
 * locator that dies, a delete log past its horizon, the quota share, answers that are not Salesforce's.
 */
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { Allotment } from "../../src/sources/allotment.js";
import { type ProviderError, ProviderHttp } from "../../src/sources/provider-http.js";
import { defaultSettings, type SalesforceSettings } from "../../src/sources/salesforce/salesforce-kind.js";
import { salesforceRules } from "../../src/sources/salesforce/salesforce-rules.js";
import { SalesforceSource } from "../../src/sources/salesforce/salesforce-source.js";
import type { PulledRecord } from "../../src/sources/source.js";
import { DAY_MS, type SalesforceEmulator, startSalesforceEmulator } from "../emulators/salesforce/index.js";
import { onCleanup } from "../helpers/cleanup.js";

const emulator = await startSalesforceEmulator();

function sourceFor(
  org: SalesforceEmulator,
  settings: Partial<SalesforceSettings> = {},
  baseUrl = org.instanceUrl,
): SalesforceSource {
  const http = new ProviderHttp({
    provider: salesforceRules,
    baseUrl,
    headers: () => ({ authorization: `Bearer ${org.accessToken}` }),
    allotment: new Allotment(1000),
    backoff: { initialMs: 10, maxMs: 50 },
  });
  return new SalesforceSource(http, baseUrl, {
    ...defaultSettings,
    lookbackSeconds: 5,
    deletedCheckSeconds: 1,
    ...settings,
  });
}

/** Polls changes until caught up on every collection; the last state of each record read, and the cursor. */
async function drain(source: SalesforceSource, cursor: unknown, collections: string[], limit = 50) {
  const seen = new Map<string, PulledRecord>();
  let reads = 0;
  for (let call = 0; call < limit; call++) {
    const page = await source.changesSince(cursor, collections);
    if ("expired" in page) return { expired: page.expired, seen, cursor, reads };
    for (const r of page.records) seen.set(r.upstream_id, r);
    reads += page.records.length;
    cursor = page.cursor;
    if (!page.more) return { seen, cursor, reads };
  }
  throw new Error(`changes did not catch up in ${limit} calls`);
}

async function backfill(source: SalesforceSource, collection: string) {
  const ids: string[] = [];
  let token: string | null = null;
  do {
    const page = await source.backfillPage(collection, token);
    ids.push(...page.records.map((r) => r.upstream_id));
    token = page.next;
  } while (token !== null);
  return ids;
}

test("more records in one second than a page holds are all read, and the polls end (airbyte #17148)", async () => {
  const source = sourceFor(emulator);
  const mark = await source.changeMark();
  const at = emulator.clock.nowMs();
  const tied = Array.from({ length: 2101 }, (_, i) =>
    emulator.create("Case", { Subject: `Tie ${i}` }, { at }),
  );
  const { seen } = await drain(source, mark, ["Case"]);
  assert.equal(tied.filter((id) => seen.has(id)).length, 2101);
  assert.equal(seen.size, 2101);
});

test("a record that commits late with an older stamp is read on the next pass (airbyte #27146)", async () => {
  const source = sourceFor(emulator);
  const first = await drain(source, await source.changeMark(), ["Lead"]);
  const late = emulator.create("Lead", { LastName: "Late" }, { lateByMs: 1500 });
  const early = emulator.create("Lead", { LastName: "Read first" });
  const second = await drain(source, first.cursor, ["Lead"]);
  assert.equal(second.seen.has(early), true);
  assert.equal(second.seen.has(late), false, "not committed yet");
  await new Promise((resolve) => setTimeout(resolve, 1600));
  const third = await drain(source, second.cursor, ["Lead"]);
  assert.equal(third.seen.has(late), true);
  // with no look-back the same sequence loses it: the test can fail
  const blind = sourceFor(emulator, { lookbackSeconds: 0 });
  const before = await drain(blind, await blind.changeMark(), ["Lead"]);
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const lost = emulator.create("Lead", { LastName: "Lost" }, { lateByMs: 2500 });
  emulator.create("Lead", { LastName: "Read first again" });
  let cursor = (await drain(blind, before.cursor, ["Lead"])).cursor;
  await new Promise((resolve) => setTimeout(resolve, 2600));
  cursor = (await drain(blind, cursor, ["Lead"])).cursor;
  const after = await drain(blind, cursor, ["Lead"]);
  assert.equal(after.seen.has(lost), false);
});

test("records at a window's edge and untouched for years are read (airbyte #34107, #37528)", async () => {
  const source = sourceFor(emulator);
  const mark = (await source.changeMark()) as { mark: number };
  const onEdge = emulator.create("Opportunity", { Name: "On the edge" }, { at: mark.mark });
  const { seen } = await drain(source, mark, ["Opportunity"]);
  assert.equal(seen.has(onEdge), true);
  const old = emulator.create("Opportunity", { Name: "Old" }, { at: Date.now() - 3 * 365 * DAY_MS });
  assert.ok((await backfill(source, "Opportunity")).includes(old));
});

test("deletes: the recycle bin through queryAll, purges through the delete log, undeletes (airbyte #10155)", async () => {
  const source = sourceFor(emulator);
  const ids = Array.from({ length: 4 }, (_, i) => emulator.create("Contact", { LastName: `C${i}` }));
  const start = await drain(source, await source.changeMark(), ["Contact"]);
  emulator.remove("Contact", ids[0]!);
  emulator.purge("Contact", ids[1]!);
  emulator.remove("Contact", ids[2]!);
  emulator.undelete("Contact", ids[2]!);
  emulator.clock.advance(61_000); // the delete log is read by whole minutes
  const { seen } = await drain(source, start.cursor, ["Contact"]);
  assert.equal(seen.get(ids[0]!)?.deleted, true);
  assert.equal(seen.get(ids[1]!)?.deleted, true);
  assert.equal(seen.get(ids[2]!)?.deleted, false);
  assert.equal(seen.get(ids[3]!)?.deleted ?? false, false);
});

test("the delete log past its 15 days, or trimmed past the last check: expired", async () => {
  const source = sourceFor(emulator);
  const { cursor } = await drain(source, await source.changeMark(), ["User"]);
  emulator.trimDeleteLog("User", emulator.clock.nowMs() + 30_000);
  emulator.clock.advance(61_000);
  const trimmed = await drain(source, cursor, ["User"]);
  assert.match(trimmed.expired ?? "", /delete log of User no longer reaches back/);
  const other = await drain(source, await source.changeMark(), ["Account"]);
  emulator.clock.advance(16 * DAY_MS);
  const late = await drain(source, other.cursor, ["Account"]);
  assert.match(late.expired ?? "", /keeps 15 days/);
  emulator.clock.setOffset(0);
});

test("more deletes than the delete log answers (EXCEEDED_ID_LIMIT): expired, everything is read again", async () => {
  const org = await startSalesforceEmulator({ deletedIdLimit: 3 });
  const source = sourceFor(org);
  const { cursor } = await drain(source, await source.changeMark(), ["Case"]);
  for (let i = 0; i < 4; i++) org.purge("Case", org.create("Case", { Subject: `Gone ${i}` }));
  org.clock.advance(61_000);
  const over = await drain(source, cursor, ["Case"]);
  assert.match(over.expired ?? "", /EXCEEDED_ID_LIMIT|cannot submit more than 3 records/);
});

test("a query locator that dies half-way: the backfill goes on from the last Id, nothing lost or twice", async () => {
  const org = await startSalesforceEmulator({ batchSize: 200 });
  const ids = Array.from({ length: 700 }, (_, i) => org.create("Account", { Name: `A${i}` }));
  const source = sourceFor(org);
  const first = await source.backfillPage("Account", null);
  org.expireLocators();
  const rest: string[] = [];
  let token = first.next;
  while (token !== null) {
    const page = await source.backfillPage("Account", token);
    rest.push(...page.records.map((r) => r.upstream_id));
    token = page.next;
  }
  assert.deepEqual([...first.records.map((r) => r.upstream_id), ...rest], ids);
  assert.ok(org.requests.some((r) => r.errorCode === "INVALID_QUERY_LOCATOR"));
});

test("past the sync's share of the org's daily requests: failing without asking, until it looks again", async () => {
  const org = await startSalesforceEmulator({ dailyLimit: 1000 });
  const source = sourceFor(org, { dailyQuotaPercent: 50 });
  org.quota.spend(600);
  await source.verify(); // the answer says 601 of 1000 used
  const asked = org.requests.length;
  await assert.rejects(source.backfillPage("Account", null), (error: ProviderError) => {
    assert.equal(error.kind, "unavailable");
    assert.match(error.message, /used 601 of its 1000 daily API requests, this sync's share is 50% \(500\)/);
    return true;
  });
  assert.equal(org.requests.length, asked, "no request made");
  org.quota.limit = 0;
  const spent = sourceFor(org);
  await assert.rejects(spent.verify(), /REQUEST_LIMIT_EXCEEDED: TotalRequests Limit exceeded/);
});

test("answers that are not Salesforce's are invalid answers naming the endpoint, never a crash", async () => {
  const junk = createServer((request, response) => {
    response.writeHead(200, { "content-type": "application/json" });
    response.end(
      request.url?.includes("/describe")
        ? JSON.stringify({ fields: [{ name: "Id" }] })
        : '{"records":"none"}',
    );
  });
  await new Promise<void>((resolve) => junk.listen(0, "127.0.0.1", resolve));
  onCleanup(() => new Promise<void>((resolve) => junk.close(() => resolve())));
  const url = `http://127.0.0.1:${(junk.address() as AddressInfo).port}`;
  const source = sourceFor(emulator, {}, url);
  await assert.rejects(source.backfillPage("Account", null), (error: ProviderError) => {
    assert.equal(error.kind, "invalid_answer");
    assert.match(error.message, /sobjects\/Account\/describe without a list of named, typed fields/);
    return true;
  });
  await assert.rejects(
    source.backfillPage("Account", '{"after":"x\' OR Name != \'","locator":null}'),
    /backfill token is not one this version wrote/,
  );
  await assert.rejects(
    source.changesSince({ v: 2 }, ["Account"]),
    /change cursor is not one this version wrote/,
  );
});
