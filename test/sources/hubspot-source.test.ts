/**
 * HubSpot's source against the HubSpot emulator, without the engine: its pages applied in order to a map
 * stand for the stream. Each test is a bug other tools shipped (SOURCES.md, section 3): more than 10,000
 * records sharing one timestamp (airbyte #43317, looped forever), records the search index shows late
 * (airbyte #34446, #40591, PR #69203), deletes and merges that search never shows (airbyte #35017, #19838,
 * tap-hubspot #64), also while the index still shows them, owners missing (tap-hubspot #224); then the
 * 90-day horizon, OAuth renewed by the token's lifetime with one renewal on a 401, a spent daily quota as a
 * clear failure that recovers, and scopes.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Allotment } from "../../src/sources/allotment.js";
import { hubspotFactory } from "../../src/sources/hubspot/hubspot-factory.js";
import { hubspotSession } from "../../src/sources/hubspot/hubspot-session.js";
import { ProviderError, ProviderHttp } from "../../src/sources/provider-http.js";
import type { Source } from "../../src/sources/source.js";
import type { SourceContext } from "../../src/sources/source-kinds.js";
import { busiestWindow, DAY_MS, startHubSpotEmulator } from "../emulators/hubspot/index.js";

const emulator = await startHubSpotEmulator();
emulator.setLimits({ tenSecondly: null });

function sourceFor(
  credentials: Record<string, unknown>,
  settings: Record<string, unknown> = {},
  session = hubspotFactory.session({ credentials, settings, baseUrl: emulator.baseUrl }),
): Source {
  const context: SourceContext = { credentials, settings, baseUrl: emulator.baseUrl };
  const http = new ProviderHttp({
    provider: hubspotFactory.rules,
    baseUrl: emulator.baseUrl,
    headers: (signal) => session.headers(signal),
    ...(session.reauthorize ? { reauthorize: (signal) => session.reauthorize!(signal) } : {}),
    allotment: new Allotment(50),
    backoff: { initialMs: 20, maxMs: 100 },
  });
  return hubspotFactory.build(http, context);
}

/** The stream as a map: collection → id → payload. */
type Mirror = Map<string, Map<string, unknown>>;

function apply(
  mirror: Mirror,
  records: { collection_id: string; upstream_id: string; payload: unknown; deleted: boolean }[],
) {
  for (const r of records) {
    const table = mirror.get(r.collection_id) ?? new Map<string, unknown>();
    mirror.set(r.collection_id, table);
    if (r.deleted) table.delete(r.upstream_id);
    else table.set(r.upstream_id, r.payload);
  }
}

async function backfill(source: Source, mirror: Mirror, collections: string[]) {
  for (const collection of collections) {
    let token: string | null = null;
    do {
      const page = await source.backfillPage(collection, token);
      apply(mirror, page.records);
      token = page.next;
    } while (token !== null);
  }
}

/** HubSpot's `Date` has whole seconds: a change in the second before a pass may wait for the next pass. */
const pastTheSecond = () => new Promise((resolve) => setTimeout(resolve, 1100));

/** One round of changes (every collection visited once); returns the cursor after it and its page count. */
async function round(source: Source, mirror: Mirror, cursor: unknown, collections: string[]) {
  let pages = 0;
  for (;;) {
    const page = await source.changesSince(cursor, collections);
    if ("expired" in page) throw new Error(`expired: ${page.expired}`);
    apply(mirror, page.records);
    cursor = page.cursor;
    pages += 1;
    if (!page.more) return { cursor, pages };
  }
}

function assertMirrors(mirror: Mirror, type: "contacts" | "companies" | "deals" | "tickets") {
  const live = emulator.all(type);
  const table = mirror.get(type) ?? new Map();
  assert.equal(table.size, live.length, `${type}: ${table.size} mirrored, ${live.length} in HubSpot`);
  for (const object of live) assert.deepEqual(table.get(object.id as string), object, `${type} ${object.id}`);
}

test("10,001 records changed at one timestamp: a round ends and reads them all, never past the search cap", async () => {
  const token = emulator.createPrivateApp();
  const source = sourceFor({ access_token: token });
  const ids = Array.from(
    { length: 10_001 },
    (_, i) => emulator.create("companies", { name: `Bulk ${i}` }).id as string,
  );
  const mirror: Mirror = new Map();
  const mark = await source.changeMark();
  await backfill(source, mirror, ["companies"]);
  emulator.updateMany("companies", ids, { industry: "COMPUTER_SOFTWARE" }, { at: emulator.clock.nowMs() });
  await pastTheSecond();
  const { pages } = await round(source, mirror, mark, ["companies"]);
  assertMirrors(mirror, "companies");
  const ours = emulator.requests.filter((r) => r.install === token);
  assert.equal(ours.filter((r) => r.status === 400).length, 0, "no search paged past 10,000");
  assert.ok(pages <= 52 + 2, `${pages} pages for 10,001 changes`);
  const searches = ours.filter((r) => r.search);
  assert.ok(busiestWindow(searches, 1000) <= 4, `searches in one second: ${busiestWindow(searches, 1000)}`);
});

test("records the search index shows late are caught by the lookback; without it they are lost", async () => {
  for (const [lookback, caught] of [
    [20, true],
    [0, false],
  ] as const) {
    const source = sourceFor({ access_token: emulator.createPrivateApp() }, { lookback_seconds: lookback });
    const mirror: Mirror = new Map();
    let cursor: unknown = await source.changeMark();
    emulator.setIndexLag(10_000);
    try {
      const late = emulator.create("deals", { dealname: `Late with lookback ${lookback}` });
      await pastTheSecond();
      ({ cursor } = await round(source, mirror, cursor, ["deals"]));
      assert.equal(mirror.get("deals")?.has(late.id as string) ?? false, false, "not searchable yet");
      emulator.clock.advance(11_000);
      ({ cursor } = await round(source, mirror, cursor, ["deals"]));
      assert.equal(mirror.get("deals")?.has(late.id as string) ?? false, caught, `lookback ${lookback} s`);
    } finally {
      emulator.setIndexLag(0);
    }
  }
});

test("deletes: archived records, merged-away ids and restores reach the mirror; owners too", async () => {
  const source = sourceFor({ access_token: emulator.createPrivateApp() }, { lookback_seconds: 5 });
  const contacts = Array.from({ length: 6 }, (_, i) =>
    emulator.create("contacts", { email: `d${i}@example.com` }),
  );
  const owners = Array.from({ length: 3 }, () => emulator.createOwner());
  const mirror: Mirror = new Map();
  let cursor: unknown = await source.changeMark();
  await backfill(source, mirror, ["contacts", "owners"]);
  emulator.archive("contacts", contacts[0]!.id as string);
  emulator.merge("contacts", contacts[1]!.id as string, contacts[2]!.id as string);
  emulator.archive("contacts", contacts[3]!.id as string);
  emulator.updateOwner(owners[0]!.id as string, { lastName: "Renamed" });
  emulator.archiveOwner(owners[1]!.id as string);
  const added = emulator.createOwner();
  await pastTheSecond();
  ({ cursor } = await round(source, mirror, cursor, ["contacts", "owners"]));
  emulator.restore("contacts", contacts[3]!.id as string);
  await pastTheSecond();
  ({ cursor } = await round(source, mirror, cursor, ["contacts", "owners"]));
  const ids = [...(mirror.get("contacts")?.keys() ?? [])];
  for (const gone of [contacts[0]!.id, contacts[2]!.id])
    assert.ok(!ids.includes(gone as string), `${gone} deleted`);
  assert.ok(ids.includes(contacts[3]!.id as string), "restored");
  const live = emulator
    .all("contacts")
    .filter((c) => ids.includes(c.id as string) || contacts.some((x) => x.id === c.id));
  for (const object of live) assert.deepEqual(mirror.get("contacts")!.get(object.id as string), object);
  assert.deepEqual(
    [...(mirror.get("owners")?.keys() ?? [])].sort(),
    emulator
      .owners()
      .map((o) => o.id)
      .sort(),
  );
  assert.ok(mirror.get("owners")!.has(added.id as string));
  assert.deepEqual(
    mirror.get("owners")!.get(owners[0]!.id as string),
    emulator.owners().find((o) => o.id === owners[0]!.id),
  );
});

test("a cursor older than the 90-day recycle bin is expired; a collection added to an old sync is not", async () => {
  const source = sourceFor({ access_token: emulator.createPrivateApp() });
  const { cursor } = await round(source, new Map(), await source.changeMark(), ["tickets"]);
  emulator.clock.advance(90 * DAY_MS);
  try {
    await source.verify(); // HubSpot's clock is learned from its answers
    const page = await source.changesSince(cursor, ["tickets"]);
    assert.ok("expired" in page);
    assert.match(page.expired, /tickets is older than HubSpot's 90 days/);
    const added = await source.changesSince(cursor, ["deals"]);
    assert.ok(!("expired" in added), "deals, added now, start near now");
  } finally {
    emulator.clock.setOffset(0);
  }
});

test("OAuth: renewed ahead of the token's lifetime, never by waiting for a 401; a 401 still gets one renewal", async () => {
  const app = emulator.createOAuthApp();
  emulator.setTokenLifetime(600);
  try {
    const credentials = {
      refresh_token: app.refreshToken,
      client_id: app.clientId,
      client_secret: app.clientSecret,
    };
    const context = { credentials, settings: {}, baseUrl: emulator.baseUrl };
    // by its lifetime: the session's clock is HubSpot's here, so 8 minutes later it renews first
    const timed = sourceFor(
      credentials,
      {},
      hubspotSession(context, () => emulator.clock.nowMs()),
    );
    await timed.verify();
    emulator.clock.advance(8 * 60_000);
    await timed.verify();
    assert.equal(emulator.refreshes(app.refreshToken), 2);
    const refused = emulator.requests.filter((r) => r.install === app.refreshToken && r.status === 401);
    assert.equal(refused.length, 0, "no 401 was needed");
    // a session whose clock does not see the expiry: one 401, one renewal, the request goes through
    const unaware = sourceFor(credentials);
    await unaware.verify();
    emulator.clock.advance(11 * 60_000);
    await unaware.verify();
    assert.equal(
      emulator.requests.filter((r) => r.install === app.refreshToken && r.status === 401).length,
      1,
    );
    assert.equal(emulator.refreshes(app.refreshToken), 4);
    // a revoked install: refused with HubSpot's words
    emulator.revoke(app.refreshToken);
    const error = await sourceFor(credentials)
      .verify()
      .catch((e: unknown) => e);
    assert.ok(error instanceof ProviderError);
    assert.equal(error.kind, "refused");
    assert.match(error.message, /missing or unknown refresh token/);
  } finally {
    emulator.clock.setOffset(0);
    emulator.setTokenLifetime(1800);
  }
});

test("a spent daily quota fails at once as unavailable, naming it, and works again after midnight", async () => {
  const token = emulator.createPrivateApp();
  const source = sourceFor({ access_token: token });
  const cursor = await source.changeMark();
  emulator.setLimits({ daily: 0 });
  try {
    const before = structuredClone(cursor);
    const error = await source.changesSince(cursor, ["deals"]).catch((e: unknown) => e);
    assert.deepEqual(cursor, before, "a failed call leaves the cursor it was given as it was");
    assert.ok(error instanceof ProviderError);
    assert.equal(error.kind, "unavailable");
    assert.match(error.message, /daily limit/);
    assert.equal(
      emulator.requests.filter((r) => r.install === token && r.status === 429).length,
      1,
      "not retried",
    );
  } finally {
    emulator.setLimits({ daily: 250_000 });
  }
  const page = await source.changesSince(cursor, ["deals"]);
  assert.ok(!("expired" in page));
});

test("a token without the account-details scope is still good; a collection's missing scope is refused, named", async () => {
  const source = sourceFor({ access_token: emulator.createPrivateApp() });
  emulator.faults.failNext(1, { kind: "missing_scopes", path: "/account-info" });
  await source.verify();
  emulator.faults.failNext(1, { kind: "missing_scopes", path: "/crm/v3/properties/deals" });
  const error = await source.backfillPage("deals", null).catch((e: unknown) => e);
  assert.ok(error instanceof ProviderError);
  assert.equal(error.kind, "refused");
  assert.equal(error.details.code, "MISSING_SCOPES");
  assert.match(error.message, /hasn't been granted all required scopes/);
});

test("a lagging index still shows an archived or merged-away record: the same or a later pass deletes it", async () => {
  const source = sourceFor({ access_token: emulator.createPrivateApp() }, { lookback_seconds: 30 });
  const tickets = Array.from({ length: 4 }, (_, i) => emulator.create("tickets", { subject: `Lag ${i}` }));
  const mirror: Mirror = new Map();
  let cursor: unknown = await source.changeMark();
  await backfill(source, mirror, ["tickets"]);
  emulator.setIndexLag(5_000);
  try {
    emulator.update("tickets", tickets[0]!.id as string, { subject: "Changed, then archived" });
    emulator.archive("tickets", tickets[0]!.id as string);
    emulator.merge("tickets", tickets[1]!.id as string, tickets[2]!.id as string);
    await pastTheSecond();
    ({ cursor } = await round(source, mirror, cursor, ["tickets"]));
    assert.equal(
      mirror.get("tickets")!.has(tickets[0]!.id as string),
      false,
      "archived list read after search",
    );
    emulator.clock.advance(6_000);
    ({ cursor } = await round(source, mirror, cursor, ["tickets"]));
    assertMirrors(mirror, "tickets");
  } finally {
    emulator.setIndexLag(0);
    emulator.clock.setOffset(0);
  }
});

test("an account with a thousand properties of its own: the backfill reads them in chunks, every property kept", async () => {
  const source = sourceFor({ access_token: emulator.createPrivateApp() });
  const names = Array.from(
    { length: 1200 },
    (_, i) => `account_specific_field_${String(i).padStart(4, "0")}`,
  );
  emulator.defineProperties("line_items", names);
  const items = Array.from({ length: 150 }, (_, i) =>
    emulator.create("line_items", {
      name: `Item ${i}`,
      [names[i * 7]!]: `value ${i}`,
      [names[1199]!]: "last",
    }),
  );
  const mirror: Mirror = new Map();
  let cursor: unknown = await source.changeMark();
  await backfill(source, mirror, ["line_items"]);
  const table = mirror.get("line_items")!;
  assert.equal(table.size, items.length);
  for (const object of emulator.all("line_items")) assert.deepEqual(table.get(object.id as string), object);
  // changes read by search carry every property too (in the request's body)
  emulator.update("line_items", items[5]!.id as string, { [names[600]!]: "changed" });
  await pastTheSecond();
  ({ cursor } = await round(source, mirror, cursor, ["line_items"]));
  for (const object of emulator.all("line_items")) assert.deepEqual(table.get(object.id as string), object);
});
