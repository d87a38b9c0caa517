import assert from "node:assert/strict";
import { test } from "node:test";
import { createTestStore } from "./helpers/database.js";

test("the test store is migrated", async () => {
  const { pool } = await createTestStore();
  const { rows } = await pool.query("select count(*)::int as n from sequin_migrations");
  assert.ok(rows[0].n >= 1);
});
