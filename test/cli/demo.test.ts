/**
 * `sequin demo` runs the main job end to end on embedded defaults, prints each step and exits 0; in a
 * temporary folder, or in SEQUIN_DATA_DIR when set (kept).
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, test } from "node:test";
import { runSequin } from "./sequin-process.js";

test("sequin demo: backfill, live changes and a query through the README's example view", async () => {
  const result = await runSequin(["demo", "--records", "1500"]);
  assert.equal(result.code, 0, result.stderr);
  const out = result.stdout;
  for (let step = 1; step <= 7; step++) assert.match(out, new RegExp(`\\[${step}/7\\]`));
  assert.match(out, /live: 1500 rows backfilled/);
  assert.match(out, /verify: the table matches the contract/);
  assert.match(out, /applied in the target \d+ ms after the ingest call returned/);
  assert.match(out, /crm\.hubspot_leads → \d+ leads/);
  for (const id of ["1003", "1007", "1011"]) assert.match(out, new RegExp(`^\\s+${id}\\s+\\|`, "m"));
  assert.doesNotMatch(out, /demo failed/);
  // words of our own: the setup guide, the least-privilege setup, the example view; never a "seed"
  assert.doesNotMatch(out, /\bseed/i);
});

test("sequin demo with SEQUIN_DATA_DIR: runs there and keeps it, runs again there, refuses a folder of other data", async () => {
  const dir = join(await mkdtemp(join(tmpdir(), "sequin-demo-test-")), "data");
  after(() => rm(dirname(dir), { recursive: true, force: true }));

  const first = await runSequin(
    ["demo", "--records", "200"],
    { SEQUIN_DATA_DIR: dir },
    undefined,
    undefined,
    120_000,
  );
  assert.equal(first.code, 0, first.stderr);
  assert.ok(first.stdout.includes(`data in ${dir})`), first.stdout);
  assert.match(first.stdout, /live: 200 rows backfilled/);
  assert.ok(first.stdout.includes(`Look around: SEQUIN_DATA_DIR=${dir} sequin start`), first.stdout);
  assert.ok(existsSync(join(dir, "pg")), "the store is kept");

  const again = await runSequin(
    ["demo", "--records", "100"],
    { SEQUIN_DATA_DIR: dir },
    undefined,
    undefined,
    120_000,
  );
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /removed what an earlier demo made here/);
  assert.match(again.stdout, /live: 100 rows backfilled/);

  const other = join(dirname(dir), "other");
  await mkdir(other);
  await writeFile(join(other, "sequin.lock"), "1\n");
  const refused = await runSequin(["demo"], { SEQUIN_DATA_DIR: other });
  assert.equal(refused.code, 2, refused.stderr);
  assert.match(refused.stderr, /holds files the demo did not make .*Unset SEQUIN_DATA_DIR/);
  assert.deepEqual(await readdir(other), ["sequin.lock"], "nothing was touched");
});
