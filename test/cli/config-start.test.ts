// biome-ignore-all lint/suspicious/noTemplateCurlyInString: config files hold ${VAR} references literally
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import pg from "pg";
import { createTableSql } from "../../src/targets/postgres/index.js";
import { onCleanup } from "../helpers/cleanup.js";
import { createSeedTarget } from "../helpers/consumer-world.js";
import { createTestStore } from "../helpers/database.js";
import { apiClient, testToken } from "../helpers/service.js";
import { waitFor } from "../helpers/wait.js";
import { runSequin, spawnSequin } from "./sequin-process.js";

const target = await createSeedTarget();
const dir = await mkdtemp(join(tmpdir(), "sequin-start-config-"));
onCleanup(() => rm(dir, { recursive: true, force: true }));

const seed = new pg.Client({
  host: target.host,
  port: target.port,
  database: target.database,
  user: target.user,
  password: target.password,
});
await seed.connect();
onCleanup(() => seed.end());
await seed.query(createTableSql({ schema: target.schema, name: "records" }));

const config = `syncs:
  - name: acme-hubspot
    provider: hubspot
targets:
  - name: app
    postgres:
      host: ${target.host}
      port: ${target.port}
      database: ${target.database}
      username: ${target.user}
      password: \${APP_PASSWORD}
      ssl: disable
consumers:
  - name: hubspot-to-app
    target: app
    filter: { sync: acme-hubspot }
    table: { schema: ${target.schema}, name: records }
    active: true
`;

test("start --config applies the file once the service listens, and again at the next start without changes", async () => {
  const file = join(dir, "sequin.yaml");
  await writeFile(file, config);
  const store = await createTestStore();
  const token = testToken();
  const env = {
    SEQUIN_DATABASE_URL: store.url,
    SEQUIN_PORT: "0",
    SEQUIN_API_TOKEN: token,
    APP_PASSWORD: target.password,
  };
  for (const expected of [
    /^config applied: 3 created, 0 updated, 0 deleted$/m,
    /^config applied: 0 created, 0 updated, 0 deleted$/m,
  ]) {
    const sequin = spawnSequin(["start", "--config", file], env);
    const [, url] = await sequin.waitForOutput(/^listening on (http:\/\/\S+)$/m);
    await sequin.waitForOutput(expected);
    const request = apiClient(url!, token);
    const consumers = async () => (await request("GET", "/v1/consumers/postgres")).body.data;
    assert.deepEqual(
      (await consumers()).map((c: { name: string }) => c.name),
      ["hubspot-to-app"],
    );
    await waitFor("the consumer to run", async () =>
      ["backfilling", "live"].includes((await consumers())[0].state),
    );
    assert.ok(!sequin.stdout().includes(target.password), "no secret printed");
    const exit = await sequin.stop("SIGTERM");
    assert.deepEqual(exit, { code: 0, signal: null }, sequin.stderr());
  }
});

test("start --config with an invalid file exits 2 naming the line, before starting anything", async () => {
  const file = join(dir, "bad.yaml");
  await writeFile(file, config.replace("ssl: disable", "ssl: disable\n      sll: require"));
  const store = await createTestStore();
  const result = await runSequin(["start", "--config", file], {
    SEQUIN_DATABASE_URL: store.url,
    SEQUIN_PORT: "0",
    SEQUIN_API_TOKEN: testToken(),
    APP_PASSWORD: target.password,
  });
  assert.equal(result.code, 2);
  assert.equal(result.stdout, "", "nothing started");
  assert.match(result.stderr, /bad\.yaml:13:7: targets\[0\]\.postgres\.sll: unknown key "sll"/);
});

test("start --config with a file that cannot be applied stops the service with exit 1", async () => {
  const file = join(dir, "unreachable.yaml");
  await writeFile(file, config.replace("name: records", "name: not_created"));
  const store = await createTestStore();
  const result = await runSequin(["start", "--config", file], {
    SEQUIN_DATABASE_URL: store.url,
    SEQUIN_PORT: "0",
    SEQUIN_API_TOKEN: testToken(),
    APP_PASSWORD: target.password,
  });
  assert.deepEqual([result.code, result.signal], [1, null]);
  assert.match(result.stdout, /^listening on /m);
  assert.match(
    result.stderr,
    /apply stopped: create consumer "hubspot-to-app": table "sequin"\."not_created"/,
  );
});
