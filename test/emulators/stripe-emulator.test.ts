/**
 * The Stripe emulator answers the official SDK, unmodified, as Stripe does: auto-pagination across pages and
 * through ties on `created`, the events log with both cursors and its 30-day horizon, deleted objects, the
 * error classes the SDK derives from status and body (auth, missing object, rate limit, server error),
 * Connect accounts, and a rate limiter whose request log proves no one-second window went over the limit.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import Stripe from "stripe";
import {
  busiestWindow,
  DAY_MS,
  DEFAULT_API_VERSION,
  type JsonObject,
  type StripeEmulator,
  startStripeEmulator,
} from "./stripe/index.js";

function sdk(emulator: StripeEmulator, key = emulator.apiKey, maxNetworkRetries = 0): Stripe {
  return new Stripe(key, { ...emulator.sdkOptions, maxNetworkRetries, telemetry: false });
}

/** A raw request, to compare bodies and headers byte for byte with Stripe's documented shapes. */
async function raw(
  emulator: StripeEmulator,
  path: string,
  headers: Record<string, string> = { Authorization: `Bearer ${emulator.apiKey}` },
): Promise<{ status: number; headers: Headers; body: JsonObject }> {
  const response = await fetch(`http://${emulator.host}:${emulator.port}${path}`, { headers });
  return { status: response.status, headers: response.headers, body: (await response.json()) as JsonObject };
}

/** The SDK error a call rejects with; fails the test when the call succeeds. */
async function rejection(call: Promise<unknown>): Promise<InstanceType<typeof Stripe.errors.StripeError>> {
  try {
    await call;
  } catch (error) {
    assert.ok(error instanceof Stripe.errors.StripeError, `not a Stripe error: ${String(error)}`);
    return error;
  }
  assert.fail("the call succeeded");
}

const ids = (items: readonly { id?: unknown }[]): unknown[] => items.map((item) => item.id);

// One emulator without a rate limit for the shape tests; the limiter and the clock get their own.
const emulator = await startStripeEmulator({ rateLimitPerSecond: null });
const stripe = sdk(emulator);

describe("lists", () => {
  // 250 customers, 50 to a second: auto-pagination must cross pages inside a second without a skip or a repeat.
  const base = Math.floor(Date.now() / 1000) - 3600;
  const created = Array.from({ length: 250 }, (_, i) =>
    emulator.create("customers", { email: `c${i}@example.com` }, { at: base + Math.floor(i / 50) }),
  );
  const newestFirst = ids(created).reverse();

  test("auto-pagination returns all 250 customers newest first, 100 to a page", async () => {
    const before = emulator.requests.length;
    const all = await stripe.customers.list({ limit: 100 }).autoPagingToArray({ limit: 1000 });
    assert.deepEqual(ids(all), newestFirst);
    const pages = emulator.requests.slice(before);
    assert.deepEqual(
      pages.map((r) => r.query.replace(/starting_after=cus_\w+/, "starting_after=…")),
      ["limit=100", "limit=100&starting_after=…", "limit=100&starting_after=…"],
    );
  });

  test("ending_before pages towards newer objects; the SDK hands them out oldest first", async () => {
    const oldest = created[0]!.id as string;
    const later = await stripe.customers
      .list({ ending_before: oldest, limit: 30 })
      .autoPagingToArray({ limit: 1000 });
    assert.deepEqual(ids(later), ids(created.slice(1)));
    const page = await stripe.customers.list({ ending_before: created[100]!.id as string, limit: 3 });
    assert.deepEqual(ids(page.data), ids(created.slice(101, 104)).reverse());
    assert.equal(page.has_more, true);
  });

  test("a list is {object, data, has_more, url}, default limit 10", async () => {
    const response = await raw(emulator, "/v1/customers");
    assert.equal(response.status, 200);
    assert.deepEqual(Object.keys(response.body), ["object", "data", "has_more", "url"]);
    assert.equal(response.body.object, "list");
    assert.equal(response.body.url, "/v1/customers");
    assert.equal(response.body.has_more, true);
    assert.deepEqual(ids(response.body.data as JsonObject[]), newestFirst.slice(0, 10));
    const customer = (response.body.data as JsonObject[])[0]!;
    assert.match(customer.id as string, /^cus_[0-9A-Za-z]{14}$/);
    assert.equal(customer.object, "customer");
    assert.equal(customer.livemode, false);
    assert.deepEqual(customer.metadata, {});
    assert.equal(typeof customer.created, "number");
  });

  test("created[gte]/created[lt] select whole seconds", async () => {
    const window = await stripe.customers
      .list({ created: { gte: base + 1, lt: base + 3 }, limit: 100 })
      .autoPagingToArray({ limit: 1000 });
    assert.deepEqual(ids(window), ids(created.slice(50, 150)).reverse());
  });

  test("limit outside 1–100 is Stripe's 400 invalid_request_error", async () => {
    const tooMany = await raw(emulator, "/v1/customers?limit=101");
    assert.equal(tooMany.status, 400);
    const error = tooMany.body.error as Record<string, string>;
    assert.match(error.request_log_url!, /^https:\/\/dashboard\.stripe\.com\/test\/logs\/req_\w+\?t=\d+$/);
    assert.deepEqual(tooMany.body, {
      error: {
        code: "parameter_invalid_integer",
        doc_url: "https://stripe.com/docs/error-codes/parameter-invalid-integer",
        message: "This value must be less than or equal to 100 (it currently is '101').",
        param: "limit",
        request_log_url: error.request_log_url,
        type: "invalid_request_error",
      },
    });
    const zero = await rejection(stripe.customers.list({ limit: 0 }));
    assert.ok(zero instanceof Stripe.errors.StripeInvalidRequestError);
    assert.equal(zero.param, "limit");
    assert.equal(zero.message, "This value must be greater than or equal to 1.");
  });

  test("starting_after and ending_before exclude each other; an unknown cursor is resource_missing", async () => {
    const both = await rejection(
      stripe.customers.list({
        starting_after: created[5]!.id as string,
        ending_before: created[9]!.id as string,
      }),
    );
    assert.equal(both.statusCode, 400);
    assert.equal(
      both.message,
      "You may only specify one of these parameters: ending_before, starting_after.",
    );
    const unknown = await rejection(stripe.customers.list({ starting_after: "cus_NoSuchCustomer0" }));
    assert.ok(unknown instanceof Stripe.errors.StripeInvalidRequestError);
    assert.equal(unknown.statusCode, 400);
    assert.equal(unknown.code, "resource_missing");
    assert.equal(unknown.param, "starting_after");
    assert.equal(unknown.message, "No such customer: 'cus_NoSuchCustomer0'");
  });

  test("a parameter Stripe does not take is refused, not ignored (there is no updated filter)", async () => {
    const response = await raw(emulator, "/v1/customers?updated[gt]=1");
    assert.equal(response.status, 400);
    assert.equal((response.body.error as JsonObject).code, "parameter_unknown");
  });

  test("a change between two pages: a new customer is newer than the cursor; a deleted cursor is refused", async () => {
    // A connected account of its own keeps this list apart from the other tests' customers.
    const account = emulator.connectAccount();
    const made = Array.from({ length: 25 }, (_, i) =>
      emulator.create("customers", { name: `n${i}` }, { account }),
    );
    let pages = 0;
    const stop = emulator.onRequest((request) => {
      if (request.path !== "/v1/customers" || request.account !== account) return;
      pages += 1;
      if (pages === 2) emulator.create("customers", { name: "late" }, { account });
    });
    const seen = await stripe.customers
      .list({ limit: 10 }, { stripeAccount: account })
      .autoPagingToArray({ limit: 100 });
    stop();
    assert.equal(pages, 3);
    assert.deepEqual(ids(seen), ids(made).reverse());
    assert.equal(emulator.all("customers", { account })[0]!.name, "late");

    const first = await stripe.customers.list({ limit: 10 }, { stripeAccount: account });
    const cursor = first.data.at(-1)!.id;
    emulator.remove("customers", cursor, { account });
    const refused = await rejection(
      stripe.customers.list({ limit: 10, starting_after: cursor }, { stripeAccount: account }),
    );
    assert.equal(refused.code, "resource_missing");
    assert.equal(refused.param, "starting_after");
  });

  test("subscriptions hide canceled ones unless status=all", async () => {
    const customer = emulator.create("customers");
    const kept = emulator.create("subscriptions", { customer: customer.id });
    const canceled = emulator.create("subscriptions", { customer: customer.id });
    emulator.remove("subscriptions", canceled.id as string);
    const plain = await stripe.subscriptions.list({ customer: customer.id as string });
    assert.deepEqual(ids(plain.data), [kept.id]);
    const all = await stripe.subscriptions.list({ customer: customer.id as string, status: "all" });
    assert.deepEqual(ids(all.data), [canceled.id, kept.id]);
    assert.equal(all.data[0]!.status, "canceled");
  });
});

describe("retrieve", () => {
  test("a deleted customer retrieves as {id, object, deleted: true} and leaves the list", async () => {
    const customer = emulator.create("customers", { email: "gone@example.com" });
    emulator.remove("customers", customer.id as string);
    const retrieved = await stripe.customers.retrieve(customer.id as string);
    assert.deepEqual({ ...retrieved }, { id: customer.id, object: "customer", deleted: true });
    const listed = await stripe.customers.list({ email: "gone@example.com" });
    assert.deepEqual(listed.data, []);
  });

  test("a deleted product and an unknown id are Stripe's 404 resource_missing", async () => {
    const product = emulator.create("products", { name: "Old plan" });
    emulator.remove("products", product.id as string);
    const gone = await rejection(stripe.products.retrieve(product.id as string));
    assert.ok(gone instanceof Stripe.errors.StripeInvalidRequestError);
    assert.equal(gone.statusCode, 404);
    assert.equal(gone.code, "resource_missing");

    const response = await raw(emulator, "/v1/customers/cus_Unknown0000000");
    assert.equal(response.status, 404);
    const error = response.body.error as Record<string, string>;
    assert.deepEqual(response.body, {
      error: {
        code: "resource_missing",
        doc_url: "https://stripe.com/docs/error-codes/resource-missing",
        message: "No such customer: 'cus_Unknown0000000'",
        param: "id",
        request_log_url: error.request_log_url,
        type: "invalid_request_error",
      },
    });
    const unknown = await rejection(stripe.customers.retrieve("cus_Unknown0000000"));
    assert.ok(unknown instanceof Stripe.errors.StripeInvalidRequestError);
    assert.equal(unknown.code, "resource_missing");
  });

  test("responses carry Request-Id and echo Stripe-Version", async () => {
    const pinned = await raw(emulator, "/v1/customers?limit=1", {
      Authorization: `Bearer ${emulator.apiKey}`,
      "Stripe-Version": "2020-08-27",
    });
    assert.match(pinned.headers.get("request-id") ?? "", /^req_[0-9A-Za-z]{14}$/);
    assert.equal(pinned.headers.get("stripe-version"), "2020-08-27");
    const unpinned = await raw(emulator, "/v1/customers?limit=1");
    assert.equal(unpinned.headers.get("stripe-version"), DEFAULT_API_VERSION);
    assert.notEqual(unpinned.headers.get("request-id"), pinned.headers.get("request-id"));
    const customer = await stripe.customers.create({ email: "sdk@example.com" });
    assert.match(customer.lastResponse.requestId, /^req_/);
  });
});

describe("events", () => {
  test("create, update and delete send events with a snapshot and previous_attributes", async () => {
    const customer = await stripe.customers.create({ email: "a@example.com", metadata: { plan: "basic" } });
    await stripe.customers.update(customer.id, { email: "b@example.com", metadata: { plan: "" } });
    emulator.update("customers", customer.id, { email: "c@example.com" });
    const deleted = await stripe.customers.del(customer.id);
    assert.equal(deleted.deleted, true);

    const events = (await stripe.events.list({ type: "customer.*", limit: 100 })).data.filter(
      (event) => (event.data.object as { id: string }).id === customer.id,
    );
    assert.deepEqual(
      events.map((event) => event.type),
      ["customer.deleted", "customer.updated", "customer.updated", "customer.created"],
    );
    const [, second, first, createdEvent] = events;
    assert.equal((createdEvent!.data.object as Stripe.Customer).email, "a@example.com");
    assert.deepEqual((createdEvent!.data.object as Stripe.Customer).metadata, { plan: "basic" });
    assert.equal((first!.data.object as Stripe.Customer).email, "b@example.com");
    assert.deepEqual(first!.data.previous_attributes, {
      email: "a@example.com",
      metadata: { plan: "basic" },
    });
    assert.equal((second!.data.object as Stripe.Customer).email, "c@example.com");
    assert.deepEqual(second!.data.previous_attributes, { email: "b@example.com" });
    assert.match(first!.id, /^evt_[0-9A-Za-z]{24}$/);
    assert.equal(first!.api_version, DEFAULT_API_VERSION);
  });

  test("300 events in one second page without a skip or a repeat, both ways", async () => {
    const second = Math.floor(Date.now() / 1000) - 7200;
    const products = Array.from({ length: 300 }, (_, i) =>
      emulator.create("products", { name: `burst ${i}` }, { at: second }),
    );
    const burst = emulator.events().filter((event) => event.created === second);
    assert.equal(burst.length, 300);

    const forward = [];
    let cursor: string | undefined;
    for (;;) {
      const page = await stripe.events.list({
        created: second,
        limit: 7,
        ...(cursor ? { starting_after: cursor } : {}),
      });
      forward.push(...page.data);
      if (!page.has_more) break;
      cursor = page.data[page.data.length - 1]!.id;
    }
    assert.deepEqual(ids(forward), ids(burst));
    assert.deepEqual(
      forward.map((event) => (event.data.object as { id: string }).id),
      ids(products).reverse(),
    );

    // The incremental reader's way: ending_before the last event seen, chronological through auto-pagination.
    const firstSeen = burst[burst.length - 1]!.id as string;
    const caughtUp = await stripe.events
      .list({ ending_before: firstSeen, created: second, limit: 100 })
      .autoPagingToArray({ limit: 1000 });
    assert.deepEqual(ids(caughtUp), ids(burst.slice(0, -1)).reverse());
  });

  test("types[] and type select events", async () => {
    const price = emulator.create("prices", { unit_amount: 500 });
    emulator.update("prices", price.id as string, { active: false });
    const both = await stripe.events.list({ types: ["price.created", "price.updated"], limit: 100 });
    assert.deepEqual(
      both.data.filter((event) => (event.data.object as { id: string }).id === price.id).map((e) => e.type),
      ["price.updated", "price.created"],
    );
    assert.ok(both.data.every((event) => event.type === "price.created" || event.type === "price.updated"));
    const one = await stripe.events.list({ type: "price.updated", limit: 100 });
    assert.ok(one.data.length > 0 && one.data.every((event) => event.type === "price.updated"));
    const clash = await rejection(stripe.events.list({ type: "price.updated", types: ["price.created"] }));
    assert.equal(clash.statusCode, 400);
  });

  test("a charge announces its outcome; balance transactions change silently", async () => {
    const charge = emulator.create("charges", { amount: 2500 });
    const txn = emulator.create("balance_transactions", { amount: 2500, source: charge.id });
    const events = await stripe.events.list({ type: "charge.*" });
    assert.equal(events.data[0]!.type, "charge.succeeded");
    assert.equal((events.data[0]!.data.object as { id: string }).id, charge.id);
    const all = await stripe.events.list({ limit: 100 }).autoPagingToArray({ limit: 10_000 });
    assert.ok(!all.some((event) => (event.data.object as { id: string }).id === txn.id));
    const listed = await stripe.balanceTransactions.list({ source: charge.id as string });
    assert.deepEqual(ids(listed.data), [txn.id]);
  });
});

test("events older than 30 days are purged and a cursor on one is an error", async () => {
  const timed = await startStripeEmulator({ rateLimitPerSecond: null });
  const client = sdk(timed);
  const old = timed.create("customers", { name: "before" });
  const oldEvent = (await client.events.list()).data[0]!;
  assert.equal((oldEvent.data.object as { id: string }).id, old.id);

  timed.clock.advance(29 * DAY_MS);
  assert.equal((await client.events.list()).data.length, 1, "kept for 30 days");
  timed.clock.advance(2 * DAY_MS);
  const createdFrom = timed.clock.nowSeconds();
  const recent = timed.create("customers", { name: "after" });
  const events = await client.events.list();
  assert.deepEqual(
    events.data.map((event) => (event.data.object as { id: string }).id),
    [recent.id],
  );
  const expired = await rejection(client.events.list({ starting_after: oldEvent.id }));
  assert.ok(expired instanceof Stripe.errors.StripeInvalidRequestError);
  assert.equal(expired.code, "resource_missing");
  assert.equal(expired.param, "starting_after");
  assert.equal(expired.message, `No such event: '${oldEvent.id}'`);
  const retrieve = await rejection(client.events.retrieve(oldEvent.id));
  assert.equal(retrieve.statusCode, 404);
  // The object outlives its events.
  assert.equal((await client.customers.retrieve(old.id as string)).id, old.id);
  // stamped by the moved clock (a second may have turned since, on a busy machine)
  assert.ok(
    (recent.created as number) >= createdFrom && (recent.created as number) <= timed.clock.nowSeconds(),
    `created ${recent.created}, the clock ${createdFrom}..${timed.clock.nowSeconds()}`,
  );
});

describe("auth", () => {
  test("a revoked key is Stripe's 401 and StripeAuthenticationError", async () => {
    const key = emulator.createKey();
    const client = sdk(emulator, key);
    await client.customers.list({ limit: 1 });
    emulator.revokeKey(key);
    const refused = await rejection(client.customers.list({ limit: 1 }));
    assert.ok(refused instanceof Stripe.errors.StripeAuthenticationError);
    assert.equal(refused.statusCode, 401);

    const response = await raw(emulator, "/v1/customers", { Authorization: `Bearer ${key}` });
    assert.equal(response.status, 401);
    assert.deepEqual(response.body, {
      error: {
        message: `Invalid API Key provided: sk_test_${"*".repeat(key.length - 12)}${key.slice(-4)}`,
        type: "invalid_request_error",
      },
    });
  });

  test("basic auth with the key as user name works; no key at all is a 401", async () => {
    const basic = Buffer.from(`${emulator.apiKey}:`).toString("base64");
    assert.equal(
      (await raw(emulator, "/v1/customers?limit=1", { Authorization: `Basic ${basic}` })).status,
      200,
    );
    const none = await raw(emulator, "/v1/customers", {});
    assert.equal(none.status, 401);
    assert.match((none.body.error as JsonObject).message as string, /^You did not provide an API key\./);
  });
});

describe("Connect", () => {
  test("Stripe-Account selects a connected account's data and events", async () => {
    const account = emulator.connectAccount();
    const theirs = emulator.create("customers", { name: "connected" }, { account });
    const listed = await stripe.customers.list({}, { stripeAccount: account });
    assert.deepEqual(ids(listed.data), [theirs.id]);
    const platform = await stripe.customers.list({ limit: 100 });
    assert.ok(!ids(platform.data).includes(theirs.id));
    const events = await stripe.events.list({}, { stripeAccount: account });
    assert.equal(events.data.length, 1);
    assert.equal(events.data[0]!.account, account);
    assert.equal(
      (await stripe.customers.retrieve(theirs.id as string, {}, { stripeAccount: account })).id,
      theirs.id,
    );
    const elsewhere = await rejection(stripe.customers.retrieve(theirs.id as string));
    assert.equal(elsewhere.code, "resource_missing");
  });

  test("an account the key cannot reach is a 403 account_invalid", async () => {
    const refused = await rejection(stripe.customers.list({}, { stripeAccount: "acct_NotConnected00000" }));
    assert.ok(refused instanceof Stripe.errors.StripePermissionError);
    assert.equal(refused.statusCode, 403);
    assert.equal(refused.code, "account_invalid");
  });
});

describe("faults", () => {
  test("an injected 500 is StripeAPIError, once, on the matching path only", async () => {
    emulator.faults.failNext(1, { path: "/v1/invoices" });
    assert.equal((await stripe.customers.list({ limit: 1 })).object, "list");
    const failed = await rejection(stripe.invoices.list());
    assert.ok(failed instanceof Stripe.errors.StripeAPIError);
    assert.equal(failed.statusCode, 500);
    assert.equal(failed.message, "An unknown error occurred");
    assert.equal((await stripe.invoices.list()).object, "list");
  });

  test("a lock timeout carries Stripe-Should-Retry, so the SDK retries it", async () => {
    emulator.faults.failNext(1, { kind: "lock_timeout", path: "/v1/prices" });
    const before = emulator.requests.length;
    const retrying = sdk(emulator, emulator.apiKey, 1);
    assert.equal((await retrying.prices.list({ limit: 1 })).object, "list");
    assert.deepEqual(
      emulator.requests.slice(before).map((r) => r.status),
      [429, 200],
    );
  });

  test("a connection cut mid-response leaves a truncated body: StripeConnectionError, retried when allowed", async () => {
    emulator.faults.failNext(1, { kind: "destroy", path: "/v1/charges" });
    const response = await fetch(`http://${emulator.host}:${emulator.port}/v1/charges`, {
      headers: { Authorization: `Bearer ${emulator.apiKey}` },
    });
    assert.equal(response.status, 200);
    await assert.rejects(response.text());
    assert.equal(emulator.requests.at(-1)!.destroyed, true);

    emulator.faults.failNext(1, { kind: "destroy", path: "/v1/charges" });
    const cut = await rejection(stripe.charges.list());
    assert.ok(cut instanceof Stripe.errors.StripeConnectionError);
    // The headers arrived, so the SDK does not count it a network failure: even with retries allowed it
    // raises instead of asking again. A connector must retry a cut body itself.
    emulator.faults.failNext(1, { kind: "destroy", path: "/v1/charges" });
    const before = emulator.requests.length;
    const again = await rejection(sdk(emulator, emulator.apiKey, 2).charges.list());
    assert.ok(again instanceof Stripe.errors.StripeConnectionError);
    assert.deepEqual(
      emulator.requests.slice(before).map((r) => r.destroyed),
      [true],
    );
  });

  test("latency delays the matching path", async () => {
    emulator.faults.addLatency(400, { path: "/v1/refunds" });
    const started = performance.now();
    await stripe.refunds.list();
    assert.ok(performance.now() - started >= 390);
    emulator.faults.clear();
    const quick = performance.now();
    await stripe.refunds.list();
    assert.ok(performance.now() - quick < 390);
  });
});

test("the rate limiter answers 429 past the limit, and the log shows no second over it", async () => {
  const limited = await startStripeEmulator({ rateLimitPerSecond: 5 });
  const client = sdk(limited);
  const outcomes: string[] = [];
  let rateLimitError: InstanceType<typeof Stripe.errors.StripeError> | undefined;
  // As fast as one client can go for 1.5 s: the limiter must refuse some and admit again in the next second.
  const until = performance.now() + 1500;
  while (performance.now() < until) {
    try {
      await client.customers.list({ limit: 1 });
      outcomes.push("ok");
    } catch (error) {
      assert.ok(error instanceof Stripe.errors.StripeRateLimitError, String(error));
      rateLimitError = error;
      outcomes.push("429");
    }
  }
  assert.ok(rateLimitError, "no request was refused");
  assert.equal(rateLimitError.statusCode, 429);
  assert.equal(rateLimitError.code, "rate_limit");
  assert.equal(rateLimitError.headers?.["stripe-rate-limited-reason"], "global-rate");
  assert.equal(rateLimitError.headers?.["retry-after"], undefined);

  const admitted = limited.requests.filter((r) => r.status === 200);
  assert.ok(
    admitted.length > 5,
    `only ${admitted.length} admitted: the limiter never let requests through again`,
  );
  assert.ok(busiestWindow(admitted) <= 5, `${busiestWindow(admitted)} admitted in one second`);
  assert.ok(
    busiestWindow(limited.requests) > 5,
    "the client never went over the limit, so nothing was shown",
  );
  assert.equal(outcomes.filter((o) => o === "ok").length, admitted.length);

  // A limit per key: a second key has its own budget.
  const other = limited.createKey();
  limited.setRateLimit(null, other);
  for (let i = 0; i < 10; i++) await sdk(limited, other).customers.list({ limit: 1 });
  assert.ok(limited.requests.filter((r) => r.key === other).every((r) => r.status === 200));
});
