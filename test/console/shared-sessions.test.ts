/**
 * Console sign-ins live in the store: a sign-in made on one process works on another sharing the store
 * (a load balancer without sticky sessions) and after a restart; the store keeps only a hash of the
 * session id; an expired session and a signed-out one open nothing, on any process.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { test } from "node:test";
import pino from "pino";
import { type RunningService, startService } from "../../src/service.js";
import { onCleanup } from "../helpers/cleanup.js";
import { createTestStore } from "../helpers/database.js";
import { testConfig, testToken } from "../helpers/service.js";

const store = await createTestStore();
const token = testToken();
const config = testConfig(store.url, token);

async function start(): Promise<RunningService> {
  const service = await startService(config, { log: pino({ level: "silent" }) });
  onCleanup(() => service.stop());
  return service;
}

async function signIn(url: string): Promise<string> {
  const response = await fetch(`${url}/login`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", origin: url },
    body: new URLSearchParams({ token, next: "/console/consumers" }).toString(),
    redirect: "manual",
  });
  assert.equal(response.status, 303);
  const cookie = /sequin_session=([^;]+)/.exec(response.headers.get("set-cookie") ?? "")?.[1];
  assert.ok(cookie, "a session cookie");
  return cookie;
}

/** 200 when the cookie opens the consumers page, 303 (to the sign-in) when it does not. */
async function pageStatus(url: string, cookie: string): Promise<number> {
  const response = await fetch(`${url}/console/consumers`, {
    headers: { cookie: `sequin_session=${cookie}` },
    redirect: "manual",
  });
  await response.text();
  return response.status;
}

const a = await start();
const b = await start();

test("a sign-in on one process works on another, and after a restart; signing out ends it everywhere", async () => {
  const cookie = await signIn(a.url);
  assert.equal(await pageStatus(a.url, cookie), 200);
  assert.equal(await pageStatus(b.url, cookie), 200, "the other process knows the session");

  const { rows } = await store.pool.query<{ id_sha256: Buffer }>(
    "select id_sha256 from sequin_console_sessions",
  );
  assert.equal(rows.length, 1);
  assert.deepEqual(rows[0]!.id_sha256, createHash("sha256").update(cookie).digest(), "only its hash");
  const dump = JSON.stringify(
    (await store.pool.query("select encode(id_sha256, 'escape') as h, * from sequin_console_sessions")).rows,
  );
  assert.ok(!dump.includes(cookie), "the session id itself is not stored");

  await a.stop();
  const restarted = await start();
  assert.equal(await pageStatus(restarted.url, cookie), 200, "the sign-in survived the restart");

  const out = await fetch(`${b.url}/logout`, {
    method: "POST",
    headers: { cookie: `sequin_session=${cookie}`, origin: b.url },
    redirect: "manual",
  });
  assert.equal(out.status, 303);
  assert.equal(await pageStatus(restarted.url, cookie), 303, "signed out on one process: out everywhere");
  assert.equal(await pageStatus(b.url, cookie), 303);
  const left = await store.pool.query("select 1 from sequin_console_sessions");
  assert.equal(left.rowCount, 0, "sign-out deleted the session");
});

test("an expired session opens nothing and is deleted at a later sign-in; a made-up cookie opens nothing", async () => {
  const cookie = await signIn(b.url);
  await store.pool.query("update sequin_console_sessions set expires_at = now() - interval '1 second'");
  assert.equal(await pageStatus(b.url, cookie), 303);
  const fresh = await signIn(b.url);
  assert.equal(await pageStatus(b.url, fresh), 200);
  const { rows } = await store.pool.query<{ n: number }>(
    "select count(*)::int as n from sequin_console_sessions",
  );
  assert.equal(rows[0]!.n, 1, "the expired session was deleted");
  assert.equal(await pageStatus(b.url, "x".repeat(43)), 303);
  assert.equal(await pageStatus(b.url, "not-even-the-shape"), 303);
});
