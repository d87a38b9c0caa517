/**
 * The providers' HTTP client against a real HTTP server that misbehaves on purpose: the allotment holds in
 * every one-second window the server sees, a 429's Retry-After pauses every request of the credential,
 * 5xx answers, dropped connections and silent servers are retried with backoff, a refusal carries the
 * provider's reason and is not retried, an answer that is not JSON is a clear error.
 */
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { after, test } from "node:test";
import { Allotment } from "../../src/sources/allotment.js";
import { defaultRules, ProviderError, ProviderHttp } from "../../src/sources/provider-http.js";

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** An HTTP server whose next answers a test scripts; it logs when each request arrived. */
async function scriptedServer() {
  const arrivals: { at: number; path: string }[] = [];
  const script: Handler[] = [];
  let fallback: Handler = (_req, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ ok: true }));
  };
  const server = createServer((req, res) => {
    arrivals.push({ at: Date.now(), path: req.url ?? "" });
    (script.shift() ?? fallback)(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  after(() => {
    server.closeAllConnections();
    server.close();
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    arrivals,
    answerNext: (...handlers: Handler[]) => script.push(...handlers),
    otherwise: (handler: Handler) => {
      fallback = handler;
    },
  };
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Handler {
  return (_req, res) => {
    res.writeHead(status, { "content-type": "application/json", ...headers });
    res.end(JSON.stringify(body));
  };
}

function client(url: string, allotment: Allotment, events: unknown[] = [], timeoutMs = 5000) {
  return new ProviderHttp({
    provider: { ...defaultRules, provider: "example" },
    baseUrl: url,
    headers: () => ({ authorization: "Bearer sk_test_secret" }),
    allotment,
    timeoutMs,
    backoff: { initialMs: 20, maxMs: 100 },
    maxAttempts: 4,
    onRequest: (event) => events.push(event),
  });
}

/** The most requests the server saw start within any one-second window. */
function busiestSecond(arrivals: { at: number }[]): number {
  let most = 0;
  for (let i = 0; i < arrivals.length; i++) {
    let n = 0;
    for (let j = i; j < arrivals.length && arrivals[j]!.at - arrivals[i]!.at < 1000; j++) n++;
    most = Math.max(most, n);
  }
  return most;
}

test("the allotment holds in every one-second window the server sees, for requests made all at once", async () => {
  const server = await scriptedServer();
  const http = client(server.url, new Allotment(10));
  const started = Date.now();
  await Promise.all(Array.from({ length: 35 }, (_, i) => http.get(`/v1/items/${i}`)));
  const seconds = (Date.now() - started) / 1000;
  assert.equal(server.arrivals.length, 35);
  assert.ok(busiestSecond(server.arrivals) <= 10, `busiest second: ${busiestSecond(server.arrivals)}`);
  // 35 requests at 10/s need three full windows after the first ten
  assert.ok(seconds >= 3, `took ${seconds} s`);
  assert.ok(seconds < 5, `took ${seconds} s: the allotment is not used`);
});

test("a fractional allotment spaces single requests", async () => {
  const server = await scriptedServer();
  const http = client(server.url, new Allotment(4.5));
  await Promise.all(Array.from({ length: 9 }, () => http.get("/v1/x")));
  assert.ok(busiestSecond(server.arrivals) <= 4);
});

test("a 429's Retry-After holds every request of the credential, then they go through", async () => {
  const server = await scriptedServer();
  const events: { throttled: boolean }[] = [];
  const allotment = new Allotment(100);
  const http = client(server.url, allotment, events);
  server.answerNext(
    json(429, { error: { message: "Too many requests", type: "rate_limit" } }, { "retry-after": "1" }),
  );
  const first = http.get("/v1/first");
  // a second request of the same credential, made while the first waits out its pause
  await new Promise((resolve) => setTimeout(resolve, 100));
  const second = http.get("/v1/second");
  const answers = await Promise.all([first, second]);
  assert.deepEqual(
    answers.map((a) => a.status),
    [200, 200],
  );
  const [refused, ...rest] = server.arrivals;
  for (const later of rest)
    assert.ok(later.at - refused!.at >= 990, `a request ${later.at - refused!.at} ms after the 429`);
  assert.equal(events.filter((e) => e.throttled).length, 1);
});

test("5xx answers, a dropped connection and a silent server are retried; the answer arrives", async () => {
  const server = await scriptedServer();
  const events: { status: unknown }[] = [];
  const http = client(server.url, new Allotment(100), events, 500);
  server.answerNext(
    json(500, { error: { message: "An unknown error occurred", type: "api_error" } }),
    (req) => req.socket.destroy(),
    () => {}, // never answers: the deadline cuts it
    json(200, { id: "cus_1" }),
  );
  const answer = await http.get("/v1/customers/cus_1");
  assert.deepEqual(answer.body, { id: "cus_1" });
  assert.equal(server.arrivals.length, 4);
  assert.deepEqual(
    events.map((e) => e.status),
    [500, "network", "network", 200],
  );
});

test("retries end: a provider that keeps failing is unavailable, naming the last failure", async () => {
  const server = await scriptedServer();
  server.otherwise(json(503, { error: { message: "Service Unavailable" } }));
  const http = client(server.url, new Allotment(100));
  const error = await http.get("/v1/customers").catch((e: unknown) => e);
  assert.ok(error instanceof ProviderError);
  assert.equal(error.kind, "unavailable");
  assert.match(error.message, /after 4 tries: Service Unavailable/);
  assert.equal(server.arrivals.length, 4);
});

test("a refusal is not retried and carries the provider's reason; the credential is not in it", async () => {
  const server = await scriptedServer();
  server.answerNext(
    json(401, {
      error: { message: "Invalid API Key provided: sk_test_****cret", type: "invalid_request_error" },
    }),
  );
  const http = client(server.url, new Allotment(100));
  const error = await http.get("/v1/customers", { query: { limit: 100 } }).catch((e: unknown) => e);
  assert.ok(error instanceof ProviderError);
  assert.equal(error.kind, "refused");
  assert.equal(error.details.status, 401);
  assert.match(
    error.message,
    /^example refused http:\/\/127\.0\.0\.1:\d+\/v1\/customers: Invalid API Key provided/,
  );
  assert.doesNotMatch(error.message, /sk_test_secret|limit=/);
  assert.equal(server.arrivals.length, 1);
});

test("a status the caller expects (404 on a re-read) is an answer, not an error", async () => {
  const server = await scriptedServer();
  server.answerNext(json(404, { error: { code: "resource_missing", message: "No such customer: 'cus_x'" } }));
  const http = client(server.url, new Allotment(100));
  const answer = await http.get("/v1/customers/cus_x", { accept: [404] });
  assert.equal(answer.status, 404);
});

test("an answer that is not JSON, or a next page on another host, is a clear error", async () => {
  const server = await scriptedServer();
  server.answerNext((_req, res) => {
    res.writeHead(200, { "content-type": "text/html" });
    res.end("<html>captive portal</html>");
  });
  const http = client(server.url, new Allotment(100));
  const notJson = await http.get("/v1/customers").catch((e: unknown) => e);
  assert.ok(notJson instanceof ProviderError);
  assert.equal(notJson.kind, "invalid_answer");
  assert.match(notJson.message, /HTTP 200 and a body that is not JSON: "<html>captive portal<\/html>"/);
  const elsewhere = await http.get("https://attacker.example/v1/customers").catch((e: unknown) => e);
  assert.ok(elsewhere instanceof ProviderError);
  assert.match(elsewhere.message, /outside http:\/\/127\.0\.0\.1/);
  assert.equal(server.arrivals.length, 1);
});

test("a quota spent until later (exhausted) fails the request at once as unavailable and holds the credential", async () => {
  const server = await scriptedServer();
  const events: { throttled: boolean }[] = [];
  const allotment = new Allotment(100);
  const http = new ProviderHttp({
    provider: {
      provider: "example",
      judge: (answer, now) =>
        answer.status === 429
          ? { kind: "exhausted", message: "You have reached your daily limit.", untilMs: now + 800 }
          : { kind: "ok" },
    },
    baseUrl: server.url,
    headers: () => ({}),
    allotment,
    onRequest: (event) => events.push(event),
  });
  server.answerNext(json(429, { message: "You have reached your daily limit." }));
  const error = await http.get("/v1/contacts").catch((e: unknown) => e);
  assert.ok(error instanceof ProviderError);
  assert.equal(error.kind, "unavailable");
  assert.equal(error.reason, "You have reached your daily limit.");
  assert.equal(server.arrivals.length, 1, "not retried");
  assert.equal(events.filter((e) => e.throttled).length, 1);
  const started = Date.now();
  await http.get("/v1/contacts");
  assert.ok(Date.now() - started >= 700, "the next request waited for the quota's return");
});
