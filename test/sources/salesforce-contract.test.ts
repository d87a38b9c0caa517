/**
 * A Salesforce sync in the API contract's forms, end to end through the API against the Salesforce emulator:
 * credentials `{instance_url, access_token}` or `{instance_url, refresh_token, client_id, client_secret,
 * token_url}` with no base_url (the instance URL is the base URL), and the setting `objects` with no
 * collections (the objects are the collections); records arrive. Each form's mistakes are refused by the
 * field's name and rule: a base_url that is not the instance URL, an instance URL that is not an address,
 * token_url with login_url, an object name that is not one, objects and collections that disagree.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { startSalesforceEmulator } from "../emulators/salesforce/index.js";
import { startTestService } from "../helpers/service.js";
import { waitFor } from "../helpers/wait.js";

const emulator = await startSalesforceEmulator();
const api = await startTestService();

for (let i = 0; i < 12; i++) emulator.create("Account", { Name: `Account ${i}`, BillingCity: "Nantes" });
emulator.create("Contact", { LastName: "Not asked for" });

const fast = { max_requests_per_second: 20, poll_interval_seconds: 0.25 };

const createSync = (name: string, source: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  api.request("POST", "/v1/syncs", {
    body: { name, provider: "salesforce", ...extra, source: { ...fast, ...source } },
  });

async function streamOf(syncId: string, collection: string) {
  const { rows } = await api.store.pool.query<{ upstream_id: string; payload: unknown }>(
    "select upstream_id, payload from sequin_records where sync_id = $1 and collection_id = $2 and not deleted",
    [syncId, collection],
  );
  return new Map(rows.map((r) => [r.upstream_id, r.payload]));
}

/** Waits until the sync's stream holds exactly the org's accounts, each payload as the org has it. */
async function waitAccounts(syncId: string) {
  let last = "";
  await waitFor(
    "the org's accounts in the stream",
    async () => {
      const live = emulator.all("Account");
      const stream = await streamOf(syncId, "Account");
      if (stream.size !== live.length) {
        last = `${stream.size} in the stream, ${live.length} in the org`;
        return false;
      }
      for (const record of live) {
        try {
          assert.deepEqual(stream.get(record.Id as string), record);
        } catch {
          last = `${record.Id} differs`;
          return false;
        }
      }
      return true;
    },
    30_000,
  ).catch((error: Error) => {
    throw new Error(`${error.message} (${last})`);
  });
}

const errorsOf = (body: { validation_errors?: Record<string, string[]> }) => body.validation_errors ?? {};

test("{instance_url, access_token} and objects, without base_url or collections: the instance is the base URL, the objects the collections", async () => {
  const created = await createSync("sf-contract-token", {
    credentials: { instance_url: emulator.instanceUrl, access_token: emulator.session() },
    settings: { objects: ["Account"] },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const syncId = created.body.id as string;
  assert.deepEqual(created.body.collections, ["Account"]);
  assert.equal(created.body.source.base_url, emulator.instanceUrl);
  assert.deepEqual(created.body.source.settings, { objects: ["Account"] });
  assert.doesNotMatch(JSON.stringify(created.body), /instance_url|access_token/, "credentials never shown");
  await waitAccounts(syncId);
  assert.equal((await streamOf(syncId, "Contact")).size, 0, "only the objects named are pulled");
  const shown = (await api.request("GET", `/v1/syncs/${syncId}`)).body;
  assert.deepEqual(
    shown.source.collections.map((c: { collection_id: string }) => c.collection_id),
    ["Account"],
  );

  // a change keeps to the same rules: the base URL stays the credential's, collections stay the objects
  const moved = await api.request("PATCH", `/v1/syncs/${syncId}`, {
    body: { source: { base_url: "https://elsewhere.my.salesforce.com" } },
  });
  assert.equal(moved.status, 400, JSON.stringify(moved.body));
  assert.match(errorsOf(moved.body)["source.base_url"]![0]!, /same as source\.credentials\.instance_url/);
  const more = await api.request("PATCH", `/v1/syncs/${syncId}`, {
    body: { collections: ["Account", "Contact"] },
  });
  assert.equal(more.status, 400, JSON.stringify(more.body));
  assert.match(errorsOf(more.body)["source.settings.objects"]![0]!, /same collections as "collections"/);
  const both = await api.request("PATCH", `/v1/syncs/${syncId}`, {
    body: { collections: ["Account", "Contact"], source: { settings: { objects: ["Account", "Contact"] } } },
  });
  assert.equal(both.status, 200, JSON.stringify(both.body));
  assert.deepEqual([...both.body.collections].sort(), ["Account", "Contact"]);
  await waitFor("the contact", async () => (await streamOf(syncId, "Contact")).size === 1);
  await api.request("POST", `/v1/syncs/${syncId}/pause`);
});

test("the refresh flow with token_url and instance_url: a session from that endpoint, records arrive; token_url with login_url is refused", async () => {
  const tokenUrl = new URL("/services/oauth2/token", emulator.instanceUrl).href;
  const oauth = {
    instance_url: emulator.instanceUrl,
    client_id: emulator.clientId,
    client_secret: emulator.clientSecret,
    token_url: tokenUrl,
  };
  const both = await createSync("sf-contract-both-urls", {
    credentials: { ...oauth, refresh_token: emulator.refreshToken(), login_url: emulator.instanceUrl },
  });
  assert.equal(both.status, 400, JSON.stringify(both.body));
  assert.match(errorsOf(both.body)["source.credentials.token_url"]![0]!, /token_url or login_url, not both/);

  const issued = emulator.issuedTokens.length;
  // no login_url: without token_url the session would be asked of login.salesforce.com
  const created = await createSync("sf-contract-oauth", {
    credentials: { ...oauth, refresh_token: emulator.refreshToken() },
    settings: { objects: ["Account"] },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const syncId = created.body.id as string;
  assert.equal(created.body.source.base_url, emulator.instanceUrl);
  assert.ok(emulator.issuedTokens.length > issued, "a session was taken at token_url");
  await waitAccounts(syncId);
  await api.request("POST", `/v1/syncs/${syncId}/pause`);
});

test("the contract's forms refused by field and rule: base_url not the instance, a malformed instance_url, a bad object, objects unlike collections", async () => {
  const credentials = { instance_url: emulator.instanceUrl, access_token: emulator.session() };

  const elsewhere = await createSync("sf-contract-elsewhere", {
    credentials,
    base_url: "https://elsewhere.my.salesforce.com",
  });
  assert.equal(elsewhere.status, 400, JSON.stringify(elsewhere.body));
  assert.match(
    errorsOf(elsewhere.body)["source.base_url"]![0]!,
    /must be the same as source\.credentials\.instance_url .*leave one of them out/,
  );
  // the same address with a trailing slash is the same address
  const slash = await createSync("sf-contract-slash", {
    credentials: { ...credentials, instance_url: `${emulator.instanceUrl}/` },
    base_url: emulator.instanceUrl,
    settings: { objects: ["Account"] },
  });
  assert.equal(slash.status, 201, JSON.stringify(slash.body));
  await api.request("POST", `/v1/syncs/${slash.body.id}/pause`);

  const malformed = await createSync("sf-contract-malformed", {
    credentials: { ...credentials, instance_url: "not a url" },
  });
  assert.equal(malformed.status, 400, JSON.stringify(malformed.body));
  assert.match(
    errorsOf(malformed.body)["source.credentials.instance_url"]![0]!,
    /http\(s\) address without a path/,
  );

  const badObject = await createSync("sf-contract-bad-object", {
    credentials,
    settings: { objects: ["Account", "bad name"] },
  });
  assert.equal(badObject.status, 400, JSON.stringify(badObject.body));
  assert.match(errorsOf(badObject.body)["source.settings.objects[1]"]![0]!, /sObject API name/);
  assert.equal(errorsOf(badObject.body)["source.settings.objects[0]"], undefined);

  const disagree = await createSync(
    "sf-contract-disagree",
    { credentials, settings: { objects: ["Account"] } },
    { collections: ["Account", "Contact"] },
  );
  assert.equal(disagree.status, 400, JSON.stringify(disagree.body));
  assert.match(
    errorsOf(disagree.body)["source.settings.objects"]![0]!,
    /same collections as "collections" \(Account, Contact\)/,
  );

  const names = ((await api.request("GET", "/v1/syncs")).body.data as { name: string }[]).map((s) => s.name);
  assert.deepEqual(
    names.filter((n) => /elsewhere|malformed|bad-object|disagree/.test(n)),
    [],
    "nothing refused is saved",
  );
});
