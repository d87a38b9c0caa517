// Copies one sync's records from Sequin's changes feed into a table of your Postgres database and follows new
// changes as they come. The cursor commits in the same transaction as the rows, so after a crash at any point
// it resumes exactly where the table is. Needs Node 20+ and `npm install pg`. Run it with
// SEQUIN_URL=http://127.0.0.1:7376 SEQUIN_API_TOKEN=… SYNC_ID=… DATABASE_URL=postgres://… node changes-feed-consumer.mjs
import pg from "pg";

const { SEQUIN_URL = "http://127.0.0.1:7376", SEQUIN_API_TOKEN, SYNC_ID, DATABASE_URL } = process.env;
const setup = `create table if not exists records (sequin_id uuid primary key, collection_id text not null,
    upstream_id text not null, payload jsonb not null, upstream_updated_at timestamptz not null);
  create table if not exists feed_cursors (feed text primary key, after text not null)`;
// a page holds each record once, at its newest version: delete the deleted ones, upsert the others
const apply = `with c as (select * from jsonb_to_recordset($1) as c(sequin_id uuid, collection_id text,
    upstream_id text, payload jsonb, upstream_updated_at timestamptz, deleted boolean)),
  gone as (delete from records where sequin_id in (select sequin_id from c where deleted))
  insert into records select sequin_id, collection_id, upstream_id, payload, upstream_updated_at
  from c where not deleted on conflict (sequin_id) do update
  set payload = excluded.payload, upstream_updated_at = excluded.upstream_updated_at`;
const saveCursor = `insert into feed_cursors values ($1, $2) on conflict (feed) do update set after = $2`;

const db = new pg.Client({ connectionString: DATABASE_URL });
await db.connect();
await db.query(setup);
const stop = new AbortController();
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => stop.abort());
let after = (await db.query("select after from feed_cursors where feed = $1", [SYNC_ID])).rows[0]?.after;
while (!stop.signal.aborted) {
  const query = new URLSearchParams({ sync_id: SYNC_ID, limit: "1000", wait_ms: "20000" });
  if (after) query.set("after", after);
  const headers = { authorization: `Bearer ${SEQUIN_API_TOKEN}` };
  const response = await fetch(`${SEQUIN_URL}/v1/changes?${query}`, { headers, signal: stop.signal }).catch(
    (error) => ({ status: 0, text: () => error.message }), // unreachable, or stopping
  );
  if (response.status !== 200) {
    if (stop.signal.aborted) break;
    console.error(`GET /v1/changes: ${response.status} ${await response.text()}`);
    if (response.status >= 400 && response.status < 500) process.exit(1); // a request to fix, not to retry
    await new Promise((resolve) => setTimeout(resolve, 2000));
    continue;
  }
  const { data, next } = await response.json();
  await db.query("begin");
  await db.query(apply, [JSON.stringify(data)]);
  await db.query(saveCursor, [SYNC_ID, next]);
  await db.query("commit");
  after = next;
}
await db.end();
