/**
 * The HubSpot emulator's shapes, checked by HubSpot's own client (@hubspot/api-client 13.5.0) running
 * unmodified against it: lists with every property and HubSpot's `after`, the archived list, search with its
 * filters and its 10,000-result cap, properties, owners, the OAuth token endpoint, and the error answers
 * the client's own retry reads (the search limit's message). Then what breaks syncs: the search index that
 * lags, archiving that leaves the last-modified property alone, the 90-day recycle bin, merges, the limits'
 * headers and 429 bodies, expired OAuth tokens.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Client } from "@hubspot/api-client";
import {
  DAY_MS,
  type HubSpotEmulator,
  MAX_URL_LENGTH,
  SEARCH_RESULTS_CAP,
  startHubSpotEmulator,
} from "./hubspot/index.js";

const emulator: HubSpotEmulator = await startHubSpotEmulator();
const token = emulator.createPrivateApp();
const client = new Client({ accessToken: token, basePath: emulator.baseUrl, numberOfApiCallRetries: 1 });

/** The error HubSpot's client throws for a refused call: its status and the body it parsed. */
async function refusal(call: Promise<unknown>): Promise<{ code: number; body: Record<string, unknown> }> {
  const error = (await call.then(
    () => assert.fail("expected a refusal"),
    (e: unknown) => e,
  )) as { code: number; body: unknown };
  const body = typeof error.body === "string" ? JSON.parse(error.body) : error.body;
  return { code: error.code, body: body as Record<string, unknown> };
}

async function raw(path: string, init: RequestInit = {}, bearer = token) {
  const response = await fetch(`${emulator.baseUrl}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${bearer}`, "content-type": "application/json", ...init.headers },
  });
  // biome-ignore lint/suspicious/noExplicitAny: the tests read HubSpot's JSON by its documented fields
  return { status: response.status, headers: response.headers, body: (await response.json()) as any };
}

test("HubSpot's client pages a list with every property, reads the archived list, properties and owners", async () => {
  const created = Array.from({ length: 25 }, (_, i) =>
    emulator.create("companies", { name: `Company ${i}`, domain: `c${i}.example.com` }),
  );
  emulator.archive("companies", created[3]!.id as string);
  const properties = await client.crm.properties.coreApi.getAll("companies");
  const names = properties.results.map((p) => p.name);
  assert.ok(names.includes("hs_lastmodifieddate") && names.includes("hs_merged_object_ids"));
  const seen: string[] = [];
  let after: string | undefined;
  do {
    const page = await client.crm.companies.basicApi.getPage(10, after, names);
    for (const company of page.results) {
      seen.push(company.id);
      assert.equal(company.archived, false);
      assert.ok(company.updatedAt instanceof Date);
      assert.deepEqual(Object.keys(company.properties).sort(), [...names].sort());
    }
    after = page.paging?.next?.after;
  } while (after);
  assert.deepEqual(
    seen,
    created.filter((_, i) => i !== 3).map((c) => c.id),
  );
  const archived = await client.crm.companies.basicApi.getPage(
    10,
    undefined,
    undefined,
    undefined,
    undefined,
    true,
  );
  assert.deepEqual(
    archived.results.map((c) => [c.id, c.archived, c.archivedAt instanceof Date]),
    [[created[3]!.id, true, true]],
  );
  // without properties=, only the defaults come back
  const plain = await client.crm.companies.basicApi.getPage(1);
  assert.deepEqual(Object.keys(plain.results[0]!.properties).sort(), [
    "createdate",
    "hs_lastmodifieddate",
    "hs_object_id",
  ]);
  const owner = emulator.createOwner({ email: "ada@example.com", firstName: "Ada", lastName: "Lovelace" });
  const owners = await client.crm.owners.ownersApi.getPage(undefined, undefined, 100, false);
  assert.deepEqual(
    owners.results.map((o) => [o.id, o.email]),
    [[owner.id, "ada@example.com"]],
  );
});

test("search: filters, one sort, total, offset paging, and a 400 past 10,000 results", async () => {
  const at = emulator.clock.nowMs() - 60_000;
  const deals = Array.from({ length: 7 }, (_, i) =>
    emulator.create("deals", { dealname: `Deal ${i}`, amount: String(i * 100) }, { at: at + i }),
  );
  const found = await client.crm.deals.searchApi.doSearch({
    filterGroups: [
      {
        filters: [
          { propertyName: "hs_lastmodifieddate", operator: "GTE" as never, value: String(at + 2) },
          { propertyName: "hs_object_id", operator: "GT" as never, value: String(deals[2]!.id) },
        ],
      },
    ],
    sorts: [{ propertyName: "hs_object_id", direction: "DESCENDING" } as never],
    properties: ["dealname", "amount"],
    limit: 2,
    after: "0",
  });
  assert.equal(found.total, 4);
  assert.deepEqual(
    found.results.map((d) => d.properties.dealname),
    ["Deal 6", "Deal 5"],
  );
  assert.equal(found.paging?.next?.after, "2");
  const tooFar = await refusal(
    client.crm.deals.searchApi.doSearch({
      filterGroups: [],
      sorts: [],
      properties: [],
      limit: 100,
      after: String(SEARCH_RESULTS_CAP - 99),
    }),
  );
  assert.equal(tooFar.code, 400);
  assert.equal(tooFar.body.category, "VALIDATION_ERROR");
  assert.match(String(tooFar.body.message), /10000/);
});

test("the search index lags; archiving leaves the last-modified property alone; restore and merge move it", async () => {
  const own = emulator.createPrivateApp();
  emulator.setIndexLag(30_000);
  try {
    const contact = emulator.create("contacts", { email: "late@example.com" });
    const search = () =>
      raw(
        "/crm/v3/objects/contacts/search",
        {
          method: "POST",
          body: JSON.stringify({
            filterGroups: [
              { filters: [{ propertyName: "email", operator: "EQ", value: "late@example.com" }] },
            ],
            properties: ["email", "lastmodifieddate"],
          }),
        },
        own,
      );
    assert.equal((await search()).body.total, 0, "not indexed yet");
    emulator.clock.advance(31_000);
    assert.equal((await search()).body.total, 1);
    const modified = contact.properties as Record<string, string>;
    emulator.archive("contacts", contact.id as string);
    assert.equal((await search()).body.total, 1, "the archive is not indexed yet either");
    emulator.clock.advance(31_000);
    assert.equal((await search()).body.total, 0, "search never shows archived records");
    const archived = await raw(`/crm/v3/objects/contacts?archived=true&properties=lastmodifieddate`);
    const row = archived.body.results.find((r: { id: string }) => r.id === contact.id);
    assert.equal(row.properties.lastmodifieddate, modified.lastmodifieddate, "archiving did not touch it");
    const restored = emulator.restore("contacts", contact.id as string);
    assert.notEqual(
      (restored.properties as Record<string, string>).lastmodifieddate,
      modified.lastmodifieddate,
    );
  } finally {
    emulator.setIndexLag(0);
  }
  const a = emulator.create("contacts", { email: "a@example.com" });
  const b = emulator.create("contacts", { email: "b@example.com" });
  const survivor = emulator.merge("contacts", a.id as string, b.id as string);
  assert.equal((survivor.properties as Record<string, string>).hs_merged_object_ids, b.id);
  const read = await raw(`/crm/v3/objects/contacts/${b.id}`);
  assert.equal(read.body.id, a.id, "a merged id reads as its survivor");
  const live = emulator.all("contacts").map((c) => c.id);
  assert.ok(!live.includes(b.id) && live.includes(a.id));
  const archivedIds = (await raw("/crm/v3/objects/contacts?archived=true")).body.results.map(
    (r: { id: string }) => r.id,
  );
  assert.ok(!archivedIds.includes(b.id), "a merged record is not in the recycle bin");
});

test("the recycle bin forgets archived records after 90 days", async () => {
  const ticket = emulator.create("tickets", { subject: "Old" });
  emulator.archive("tickets", ticket.id as string);
  const bin = async () =>
    (await raw("/crm/v3/objects/tickets?archived=true")).body.results.map((r: { id: string }) => r.id);
  assert.ok((await bin()).includes(ticket.id));
  emulator.clock.advance(91 * DAY_MS);
  assert.ok(!(await bin()).includes(ticket.id));
  emulator.clock.setOffset(0);
});

test("limits: headers on lists, none on search; 429 bodies per policy; the client's own retry on the search limit", async () => {
  const own = emulator.createPrivateApp();
  const list = await raw("/crm/v3/objects/products?limit=1", {}, own);
  assert.equal(list.headers.get("x-hubspot-ratelimit-max"), "100");
  assert.equal(list.headers.get("x-hubspot-ratelimit-remaining"), "99");
  assert.equal(list.headers.get("x-hubspot-ratelimit-daily"), "250000");
  const searched = await raw("/crm/v3/objects/products/search", { method: "POST", body: "{}" }, own);
  assert.equal(searched.status, 200);
  assert.equal(searched.headers.get("x-hubspot-ratelimit-remaining"), null);

  emulator.setLimits({ tenSecondly: 1 });
  try {
    const limited = await raw("/crm/v3/objects/products?limit=1", {}, own);
    assert.equal(limited.status, 429);
    assert.equal(limited.body.policyName, "TEN_SECONDLY_ROLLING");
    assert.equal(limited.body.errorType, "RATE_LIMIT");
  } finally {
    emulator.setLimits({ tenSecondly: 100 });
  }
  emulator.setLimits({ daily: 0 });
  try {
    const spent = await raw("/crm/v3/objects/products?limit=1", {}, own);
    assert.equal(spent.status, 429);
    assert.deepEqual(
      [spent.body.policyName, spent.body.message],
      ["DAILY", "You have reached your daily limit."],
    );
  } finally {
    emulator.setLimits({ daily: 250_000 });
  }
  // at most five searches in a second pass, a sixth is refused with the message HubSpot's client retries on
  const searches = await Promise.all(
    Array.from({ length: 6 }, () =>
      raw("/crm/v3/objects/products/search", { method: "POST", body: "{}" }, own),
    ),
  );
  const refused = searches.filter((s) => s.status === 429);
  assert.ok(refused.length >= 1, "at most five searches a second");
  for (const r of refused) assert.equal(r.body.message, "You have reached your secondly limit.");
  const patient = new Client({ accessToken: own, basePath: emulator.baseUrl, numberOfApiCallRetries: 2 });
  await Promise.all(
    Array.from({ length: 5 }, () =>
      raw("/crm/v3/objects/products/search", { method: "POST", body: "{}" }, own),
    ),
  );
  const errors = console.error;
  console.error = () => {}; // the client reports each retry on the console
  try {
    const retried = await patient.crm.products.searchApi.doSearch({
      filterGroups: [],
      sorts: [],
      properties: [],
      limit: 1,
      after: "0",
    });
    assert.ok(retried.total >= 0);
  } finally {
    console.error = errors;
  }
});

test("OAuth: the token endpoint gives tokens that expire (401 EXPIRED_AUTHENTICATION), refusals in HubSpot's words", async () => {
  const app = emulator.createOAuthApp();
  emulator.setTokenLifetime(60);
  const tokens = await client.oauth.tokensApi.create(
    "refresh_token",
    undefined,
    undefined,
    app.clientId,
    app.clientSecret,
    app.refreshToken,
  );
  assert.equal(tokens.expiresIn, 60);
  assert.equal(tokens.refreshToken, app.refreshToken);
  assert.equal((await raw("/crm/v3/objects/deals?limit=1", {}, tokens.accessToken)).status, 200);
  emulator.clock.advance(61_000);
  const expired = await raw("/crm/v3/objects/deals?limit=1", {}, tokens.accessToken);
  assert.equal(expired.status, 401);
  assert.equal(expired.body.category, "EXPIRED_AUTHENTICATION");
  emulator.clock.setOffset(0);
  const wrong = await refusal(
    client.oauth.tokensApi.create(
      "refresh_token",
      undefined,
      undefined,
      app.clientId,
      "not-the-secret",
      app.refreshToken,
    ),
  );
  assert.equal(wrong.code, 400);
  assert.equal(wrong.body.status, "BAD_CLIENT_SECRET");
  emulator.revoke(app.refreshToken);
  const revoked = await refusal(
    client.oauth.tokensApi.create(
      "refresh_token",
      undefined,
      undefined,
      app.clientId,
      app.clientSecret,
      app.refreshToken,
    ),
  );
  assert.equal(revoked.body.status, "BAD_REFRESH_TOKEN");
  const unknown = await refusal(
    new Client({
      accessToken: "pat-na1-unknown",
      basePath: emulator.baseUrl,
      numberOfApiCallRetries: 1,
    }).crm.contacts.basicApi.getPage(),
  );
  assert.equal(unknown.code, 401);
  assert.equal(unknown.body.category, "INVALID_AUTHENTICATION");
  emulator.setTokenLifetime(1800);
});

test("a list URL naming too many properties is refused before the API (414, not JSON)", async () => {
  const names = Array.from({ length: 800 }, (_, i) => `a_property_with_a_long_name_${i}`).join(",");
  assert.ok(names.length > MAX_URL_LENGTH);
  const response = await fetch(`${emulator.baseUrl}/crm/v3/objects/contacts?properties=${names}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  assert.equal(response.status, 414);
  assert.match(await response.text(), /Request-URI Too Large/);
});
