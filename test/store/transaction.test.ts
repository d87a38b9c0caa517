import assert from "node:assert/strict";
import { test } from "node:test";
import pg from "pg";
import { withTransaction } from "../../src/db/transaction.js";
import { onCleanup } from "../helpers/cleanup.js";
import { createTestStore } from "../helpers/database.js";

const store = await createTestStore();
await store.pool.query("create table tx_probe (n int)");
const rows = async () =>
  (await store.pool.query<{ n: number }>("select n from tx_probe order by n")).rows.map((r) => r.n);

test("a transaction on a pool commits what fn did and returns its value", async () => {
  const value = await withTransaction(store.pool, async (client) => {
    await client.query("insert into tx_probe values (1)");
    return "done";
  });
  assert.equal(value, "done");
  assert.deepEqual(await rows(), [1]);
});

test("a failing fn rolls back and its error comes out", async () => {
  await assert.rejects(
    withTransaction(store.pool, async (client) => {
      await client.query("insert into tx_probe values (2)");
      throw new Error("refused by fn");
    }),
    /refused by fn/,
  );
  assert.deepEqual(await rows(), [1]);
});

test("on a client the caller owns, the client stays usable after a rollback", async () => {
  const client = new pg.Client({ connectionString: store.url });
  await client.connect();
  onCleanup(() => client.end());
  await assert.rejects(
    withTransaction(client, async (c) => {
      await c.query("insert into tx_probe values (3)");
      await c.query("select 1/0");
    }),
    { code: "22012" },
  );
  await withTransaction(client, (c) => c.query("insert into tx_probe values (4)"));
  assert.deepEqual(await rows(), [1, 4]);
});

test("when the connection dies, the original error comes out, not the rollback's", async () => {
  await assert.rejects(
    withTransaction(store.pool, async (client) => {
      await client.query("insert into tx_probe values (5)");
      await client.query("select pg_terminate_backend(pg_backend_pid())");
    }),
    (error: Error) => !/rollback/i.test(error.message),
  );
  assert.deepEqual(await rows(), [1, 4]);
  // the dead connection was discarded: the pool still works
  assert.equal(
    await withTransaction(store.pool, async (client) => (await client.query("select 1 as x")).rows[0].x),
    1,
  );
});
