/** The console's building blocks: escaping HTML, the lag chart, and the lag sample queries on Postgres. */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { test } from "node:test";
import { html } from "../../src/console/html.js";
import { lagChart } from "../../src/console/lag-chart.js";
import {
  deleteLagSamplesBefore,
  insertLagSamples,
  selectLagSamples,
  selectLagSamplesSinceStart,
} from "../../src/console/lag-sample-queries.js";
import { createTestStore } from "../helpers/database.js";

test("html escapes every interpolated value, except Html made by html", () => {
  const evil = `"><script>alert('x')</script>&`;
  const inner = html`<b>${evil}</b>`;
  const out = html`<p title="${evil}">${inner}${[evil, null, false, undefined, 3]}</p>`.text;
  assert.equal(
    out,
    '<p title="&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;">' +
      "<b>&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;</b>" +
      "&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;3</p>",
  );
});

test("the lag chart: one point per sample over the last hour, or a note when there are none", () => {
  assert.match(lagChart([]).text, /data-samples="0"/);
  const now = new Date("2024-05-01T12:00:00Z");
  const samples = [40, 30, 20, 10, 0].map((minutesAgo, i) => ({
    at: new Date(now.getTime() - minutesAgo * 60_000),
    records: i * 10,
    seconds: i * 2.5,
  }));
  const svg = lagChart(samples, now).text;
  const points = /<polyline class="line" points="([^"]+)"/.exec(svg)?.[1]?.split(" ") ?? [];
  assert.equal(points.length, 5);
  const xs = points.map((p) => Number(p.split(",")[0]));
  assert.deepEqual(
    [...xs].sort((a, b) => a - b),
    xs,
    "oldest first, left to right",
  );
  assert.equal(xs.at(-1), 988, "the newest sample is at the right edge");
  assert.match(svg, /highest 10 s, now 10 s \(40 changes pending\)/);
});

test("the lag chart draws the alert threshold as a dashed line, the axis reaching up to it", () => {
  const now = new Date("2024-05-01T12:00:00Z");
  const samples = [{ at: new Date(now.getTime() - 60_000), records: 1, seconds: 2 }];
  const svg = lagChart(samples, now, 300).text;
  const y = Number(/<line class="threshold" data-threshold="300"[^>]* y1="([\d.]+)"/.exec(svg)?.[1]);
  assert.ok(y >= 12 && y <= 176, `within the plot: ${y}`);
  assert.match(svg, /alert after 5 min/);
  assert.match(svg, />500 s</, "the axis reaches past the threshold");
  assert.doesNotMatch(lagChart(samples, now).text, /threshold/);
});

test("lag samples: consumers deleted meanwhile are skipped, old samples dropped, a consumer's go with it", async () => {
  const { pool } = await createTestStore();
  const targetId = randomUUID();
  const consumerId = randomUUID();
  await pool.query(
    `insert into sequin_targets (id, name, host, port, database, username, password_encrypted)
     values ($1, 't', 'localhost', 5432, 'db', 'u', '\\x00')`,
    [targetId],
  );
  await pool.query(
    `insert into sequin_consumers (id, name, target_id, filter_provider, table_schema, table_name)
     values ($1, 'c', $2, 'hubspot', 'sequin', 'records')`,
    [consumerId, targetId],
  );
  await insertLagSamples(pool, [
    { consumerId, records: 7, seconds: 1.5 },
    { consumerId: randomUUID(), records: 1, seconds: 1 },
  ]);
  await pool.query("update sequin_lag_samples set at = now() - interval '3 hours'");
  await insertLagSamples(pool, [{ consumerId, records: 3, seconds: 0.25 }]);
  const lastHour = await selectLagSamples(pool, consumerId, new Date(Date.now() - 3600_000));
  assert.deepEqual(
    lastHour.map((s) => [s.records, s.seconds]),
    [[3, 0.25]],
  );
  assert.equal(await deleteLagSamplesBefore(pool, new Date(Date.now() - 2 * 3600_000)), 1);
  const all = await selectLagSamples(pool, consumerId, new Date(0));
  assert.equal(all.length, 1);
  await pool.query("delete from sequin_consumers where id = $1", [consumerId]);
  assert.equal(
    (await selectLagSamples(pool, consumerId, new Date(0))).length,
    0,
    "deleted with the consumer",
  );
});

test("the chart's samples start with the consumer's latest start: none before, none when never started", async () => {
  const { pool } = await createTestStore();
  const targetId = randomUUID();
  const consumerId = randomUUID();
  await pool.query(
    `insert into sequin_targets (id, name, host, port, database, username, password_encrypted)
     values ($1, 't', 'localhost', 5432, 'db', 'u', '\\x00')`,
    [targetId],
  );
  await pool.query(
    `insert into sequin_consumers (id, name, target_id, filter_provider, table_schema, table_name)
     values ($1, 'c', $2, 'hubspot', 'sequin', 'records')`,
    [consumerId, targetId],
  );
  await insertLagSamples(pool, [{ consumerId, records: 9, seconds: 99 }]);
  await pool.query("update sequin_lag_samples set at = now() - interval '30 minutes'");
  const hourAgo = new Date(Date.now() - 3600_000);
  assert.deepEqual(await selectLagSamplesSinceStart(pool, consumerId, hourAgo), [], "never started");

  await pool.query(
    `insert into sequin_consumer_events (consumer_id, at, from_state, to_state, note)
     values ($1, now() - interval '10 minutes', 'inactive', 'backfilling', 'started by a user')`,
    [consumerId],
  );
  await insertLagSamples(pool, [{ consumerId, records: 1, seconds: 0.5 }]);
  const since = await selectLagSamplesSinceStart(pool, consumerId, hourAgo);
  assert.deepEqual(
    since.map((s) => [s.records, s.seconds]),
    [[1, 0.5]],
  );
});
