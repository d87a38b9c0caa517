/**
 * The Salesforce emulator's shapes, checked with jsforce (Salesforce's JavaScript client, unmodified): query
 * batches and queryMore, autoFetch, queryAll with the recycle bin, describe, the delete log, `limitInfo` from
 * Sforce-Limit-Info, its errors by code (INVALID_FIELD, INVALID_TYPE, REQUEST_LIMIT_EXCEEDED,
 * INVALID_QUERY_LOCATOR), and its refresh of a session that ended; then the emulator's own behaviour: keyset
 * order with ties, commit lag, purge and undelete, the delete log's window.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Connection } from "jsforce";
import { API_VERSION, DAY_MS, startSalesforceEmulator } from "./salesforce/index.js";

const emulator = await startSalesforceEmulator({ batchSize: 200 });
const connect = (accessToken = emulator.accessToken) =>
  new Connection({ instanceUrl: emulator.instanceUrl, accessToken, version: API_VERSION });

const accounts = Array.from({ length: 450 }, (_, i) => emulator.create("Account", { Name: `Account ${i}` }));

test("jsforce reads query batches, queryMore and autoFetch, and the org's usage", async () => {
  const conn = connect();
  const first = await conn.query<{ Id: string; Name: string }>("SELECT Id, Name FROM Account ORDER BY Id");
  assert.equal(first.totalSize, 450);
  assert.equal(first.done, false);
  assert.equal(first.records.length, 200);
  assert.deepEqual(first.records[0], {
    attributes: { type: "Account", url: `/services/data/v${API_VERSION}/sobjects/Account/${accounts[0]}` },
    Id: accounts[0],
    Name: "Account 0",
  });
  const second = await conn.queryMore<{ Id: string }>(first.nextRecordsUrl!);
  assert.equal(second.records[0]!.Id, accounts[200]);
  const everything = await conn.query<{ Id: string }>("SELECT Id FROM Account").run({
    autoFetch: true,
    maxFetch: 10_000,
  });
  assert.equal(everything.records.length, 450);
  assert.ok(conn.limitInfo.apiUsage && conn.limitInfo.apiUsage.used >= 4);
  assert.equal(conn.limitInfo.apiUsage.limit, 100_000);
});

test("jsforce reads describe, queryAll's recycle bin and the delete log", async () => {
  const conn = connect();
  const described = await conn.sobject("Contact").describe();
  assert.equal(described.name, "Contact");
  assert.ok(described.fields.some((f) => f.name === "SystemModstamp" && f.type === "datetime"));
  const id = emulator.create("Contact", { LastName: "Gone" });
  emulator.remove("Contact", id);
  const live = await conn.query("SELECT Id FROM Contact");
  assert.equal(live.records.length, 0);
  const all = await conn
    .query<{ Id: string; IsDeleted: boolean }>("SELECT Id, IsDeleted FROM Contact")
    .scanAll(true);
  assert.deepEqual(
    all.records.map((r) => [r.Id, r.IsDeleted]),
    [[id, true]],
  );
  emulator.clock.advance(61_000); // the log is read by whole minutes
  const log = await conn
    .sobject("Contact")
    .deleted(new Date(emulator.clock.nowMs() - 3_600_000), new Date(emulator.clock.nowMs()));
  assert.deepEqual(
    log.deletedRecords.map((r) => r.id),
    [id],
  );
  assert.match(log.earliestDateAvailable, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.000\+0000$/);
});

test("errors carry Salesforce's codes: INVALID_FIELD, INVALID_TYPE, INVALID_QUERY_LOCATOR, REQUEST_LIMIT_EXCEEDED", async () => {
  const conn = connect();
  const code = (promise: PromiseLike<unknown>) =>
    Promise.resolve(promise).then(
      () => "answered",
      (error: { errorCode?: string; name?: string }) => error.errorCode ?? error.name,
    );
  assert.equal(await code(conn.query("SELECT Nope FROM Account")), "INVALID_FIELD");
  assert.equal(await code(conn.query("SELECT Id FROM Nope__c")), "INVALID_TYPE");
  assert.equal(
    await code(conn.query("SELECT Id FROM Account WHERE SystemModstamp > '2024-01-01'")),
    "MALFORMED_QUERY",
  );
  const first = await conn.query("SELECT Id FROM Account");
  emulator.expireLocators();
  assert.equal(await code(conn.queryMore(first.nextRecordsUrl!)), "INVALID_QUERY_LOCATOR");
  const limit = emulator.quota.limit;
  emulator.quota.limit = emulator.quota.used();
  try {
    const refused = await fetch(`${emulator.instanceUrl}/services/data/v${API_VERSION}/limits`, {
      headers: { authorization: `Bearer ${emulator.accessToken}` },
    });
    assert.equal(refused.status, 403);
    assert.deepEqual(await refused.json(), [
      { message: "TotalRequests Limit exceeded.", errorCode: "REQUEST_LIMIT_EXCEEDED" },
    ]);
    assert.match(refused.headers.get("sforce-limit-info") ?? "", /^api-usage=\d+\/\d+$/);
    assert.equal(await code(conn.query("SELECT Id FROM Account")), "REQUEST_LIMIT_EXCEEDED");
  } finally {
    emulator.quota.limit = limit;
  }
});

test("a session that ended: 401 INVALID_SESSION_ID, and jsforce's refresh-token flow renews it", async () => {
  const ended = emulator.session();
  emulator.revokeSession(ended);
  const plain = await fetch(`${emulator.instanceUrl}/services/data/v${API_VERSION}/`, {
    headers: { authorization: `Bearer ${ended}` },
  });
  assert.equal(plain.status, 401);
  assert.deepEqual(await plain.json(), [
    { message: "Session expired or invalid", errorCode: "INVALID_SESSION_ID" },
  ]);
  const refreshToken = emulator.refreshToken();
  const conn = new Connection({
    oauth2: {
      loginUrl: emulator.instanceUrl,
      clientId: emulator.clientId,
      clientSecret: emulator.clientSecret,
    },
    instanceUrl: emulator.instanceUrl,
    accessToken: ended,
    refreshToken,
    version: API_VERSION,
  });
  let refreshed = 0;
  conn.on("refresh", () => refreshed++);
  const answer = await conn.query("SELECT Id FROM Account LIMIT 3");
  assert.equal(answer.records.length, 3);
  assert.equal(refreshed, 1);
  emulator.revokeRefreshToken(refreshToken);
  const denied = await fetch(`${emulator.instanceUrl}/services/oauth2/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "refresh_token",
      refresh_token: refreshToken,
      client_id: emulator.clientId,
      client_secret: emulator.clientSecret,
    }),
  });
  assert.equal(denied.status, 400);
  assert.deepEqual(await denied.json(), {
    error: "invalid_grant",
    error_description: "expired access/refresh token",
  });
});

test("the (SystemModstamp, Id) keyset, ties in one second, commit lag, purge, undelete and the log's 15 days", async () => {
  const conn = connect();
  const at = emulator.clock.nowMs() - 3 * 365 * DAY_MS;
  const tied = Array.from({ length: 5 }, (_, i) => emulator.create("Lead", { LastName: `Tie ${i}` }, { at }));
  const page = await conn.query<{ Id: string }>(
    `SELECT Id FROM Lead WHERE SystemModstamp = ${new Date(Math.floor(at / 1000) * 1000).toISOString().replace(".000Z", "Z")} AND Id > '${tied[1]}' ORDER BY SystemModstamp, Id LIMIT 2`,
  );
  assert.deepEqual(
    page.records.map((r) => r.Id),
    tied.slice(2, 4),
  );
  // a change stamped now that commits 1 s later: invisible meanwhile, then there with its older stamp
  const late = emulator.create("Lead", { LastName: "Late" }, { lateByMs: 1000 });
  const before = await conn.query<{ Id: string }>("SELECT Id FROM Lead");
  assert.equal(
    before.records.some((r) => r.Id === late),
    false,
  );
  await new Promise((resolve) => setTimeout(resolve, 1100));
  const after = await conn.query<{ Id: string }>("SELECT Id FROM Lead");
  assert.equal(
    after.records.some((r) => r.Id === late),
    true,
  );
  // deleted, undeleted, deleted, purged: queryAll no longer shows it; the log does, until 15 days pass
  emulator.remove("Lead", tied[0]!);
  emulator.undelete("Lead", tied[0]!);
  assert.equal(
    emulator.all("Lead").some((r) => r.Id === tied[0]),
    true,
  );
  emulator.purge("Lead", tied[0]!);
  const all = await conn.query<{ Id: string }>("SELECT Id FROM Lead").scanAll(true);
  assert.equal(
    all.records.some((r) => r.Id === tied[0]),
    false,
  );
  emulator.clock.advance(61_000);
  const since = new Date(emulator.clock.nowMs() - 3_600_000);
  const log = await conn.sobject("Lead").deleted(since, new Date(emulator.clock.nowMs()));
  assert.deepEqual(
    log.deletedRecords.map((r) => r.id),
    [tied[0]],
  );
  emulator.clock.advance(16 * DAY_MS);
  const later = await conn
    .sobject("Lead")
    .deleted(new Date(emulator.clock.nowMs() - 20 * DAY_MS), new Date(emulator.clock.nowMs()));
  assert.deepEqual(later.deletedRecords, []);
  emulator.clock.setOffset(0);
});
