/** `sequin demo` runs the main job end to end on embedded defaults, prints each step and exits 0. */
import assert from "node:assert/strict";
import { test } from "node:test";
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
