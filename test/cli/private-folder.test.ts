/**
 * As root, in a checkout inside a folder only root may enter (a home folder, 0700), the README's commands
 * work: the embedded Postgres runs as the `postgres` OS user, so its programs and cluster are placed where
 * that user can reach them. Meaningful only as root; skipped otherwise.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { sharedServerRoot } from "../../src/db/server-placement.js";
import { onCleanup } from "../helpers/cleanup.js";
import { apiClient } from "../helpers/service.js";
import { runSequin, spawnSequin } from "./sequin-process.js";

const checkout = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const asRoot = process.getuid?.() === 0;

/** A copy of this checkout in a fresh 0700 folder, its node_modules hard-linked (same files, new path). */
async function privateCheckout(): Promise<string> {
  const home = await mkdtemp(join(tmpdir(), "sequin-home-"));
  onCleanup(() => rm(home, { recursive: true, force: true }));
  assert.equal(statSync(home).mode & 0o777, 0o700);
  const copy = join(home, "sequin");
  const files = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], {
    cwd: checkout,
  })
    .toString()
    .split("\0")
    .filter((file) => file && existsSync(join(checkout, file)));
  execFileSync("mkdir", ["-p", copy]);
  execFileSync("cp", ["--parents", "-t", copy, ...files], { cwd: checkout });
  execFileSync("cp", ["-al", join(checkout, "node_modules"), copy]);
  return copy;
}

test("as root in a 0700 folder: sequin demo runs and exits 0", {
  skip: !asRoot && "needs root",
}, async () => {
  const copy = await privateCheckout();
  const result = await runSequin(
    ["demo", "--records", "300"],
    {},
    copy,
    join(copy, "bin", "sequin"),
    120_000,
  );
  assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
  assert.match(result.stdout, /live: 300 rows backfilled/);
});

test("as root in a 0700 folder: sequin start keeps its data across restarts in a place the server can reach", {
  skip: !asRoot && "needs root",
}, async () => {
  const copy = await privateCheckout();
  const bin = join(copy, "bin", "sequin");
  const env = { SEQUIN_PORT: "0", SEQUIN_LOG_LEVEL: "warn" };
  const first = spawnSequin(["start"], env, copy, bin);
  const [, url] = await first.waitForOutput(/listening on (\S+)/, 120_000);
  const [, token] = await first.waitForOutput(/admin API token \(shown once\): (\S+)/);
  const pointer = join(copy, ".sequin", "pg", "location");
  const relocated = readFileSync(pointer, "utf8").trim();
  onCleanup(() => rm(relocated, { recursive: true, force: true }));
  assert.ok(relocated.startsWith(`${sharedServerRoot}/clusters/`), relocated);
  assert.ok(existsSync(join(relocated, "pgdata", "PG_VERSION")));
  const created = await apiClient(url as string, token)("POST", "/v1/syncs", {
    body: { name: "kept", provider: "hubspot" },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.equal((await first.stop("SIGTERM")).code, 0, first.stderr());

  const second = spawnSequin(["start"], env, copy, bin);
  const [, url2] = await second.waitForOutput(/listening on (\S+)/, 120_000);
  const syncs = await apiClient(url2 as string, token)("GET", "/v1/syncs");
  assert.equal(syncs.status, 200, JSON.stringify(syncs.body));
  assert.deepEqual(
    syncs.body.data.map((sync: { name: string }) => sync.name),
    ["kept"],
  );
  assert.equal((await second.stop("SIGTERM")).code, 0, second.stderr());
});
