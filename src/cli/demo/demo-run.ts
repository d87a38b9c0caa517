/**
 * `sequin demo`: the product's main job end to end, on embedded defaults, printing each step. An embedded
 * store and service start in a data directory (a temporary one, deleted at the end unless --keep; or
 * SEQUIN_DATA_DIR, kept); a demo target database is prepared exactly as the README's setup guide says
 * (schema, least-privilege user, grants); a provider consumer backfills a sync, then follows live upserts and
 * deletes; the README's example view, `hubspot_leads`, is queried at the end.
 */
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import pino from "pino";
import { ApiClient } from "../../api-client.js";
import { loadConfig } from "../../config.js";
import { startService } from "../../service.js";
import { setupSql } from "../../targets/postgres/index.js";
import { UsageError } from "../exit-codes.js";
import { demoContact } from "./demo-data.js";

type Print = (line: string) => void;

interface DemoOptions {
  records: number;
  keep: boolean;
  /** SEQUIN_DATA_DIR when set: the demo runs there and keeps it. */
  dataDir?: string;
  /** SEQUIN_VAULT_KEY when set, for a data directory whose credentials it encrypted. */
  vaultKey?: string;
  print: Print;
}

/** The names the demo gives what it creates; a rerun in its own data directory removes them first. */
const names = { sync: "acme-hubspot", target: "demo-target", consumer: "hubspot-to-crm" } as const;

/** The file that marks a data directory as the demo's own (a rerun may remove what an earlier one made). */
const marker = "made-by-sequin-demo.txt";

/**
 * Where the demo runs: a new temporary folder, or SEQUIN_DATA_DIR when it is new, empty or an earlier
 * demo's. A folder holding anything else (a service's store) is refused: the demo never touches it.
 */
async function demoDataDir(requested: string | undefined): Promise<{ dir: string; temporary: boolean }> {
  if (requested === undefined) return { dir: await mkdtemp(join(tmpdir(), "sequin-demo-")), temporary: true };
  const entries: string[] = await readdir(requested).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return [];
    throw new UsageError(`SEQUIN_DATA_DIR=${requested} cannot be read: ${error.message}`);
  });
  if (entries.length > 0 && !entries.includes(marker)) {
    throw new UsageError(
      `SEQUIN_DATA_DIR=${requested} holds files the demo did not make (a service's store?): the demo runs only in a new or empty folder, or one an earlier demo made. Unset SEQUIN_DATA_DIR to run it in a temporary folder.`,
    );
  }
  await mkdir(requested, { recursive: true });
  await writeFile(
    join(requested, marker),
    "This folder holds the store of `sequin demo`. Look around: SEQUIN_DATA_DIR=<this folder> sequin start\n" +
      "Running the demo again here replaces what it made.\n",
  );
  return { dir: requested, temporary: false };
}

interface ConsumerAnswer {
  id: string;
  state: string;
  create_table_sql: string;
  lag: { records: number; seconds: number };
  stats: { upserted: number; deleted: number };
  backfill: { total: number; done: number; progress: number } | null;
  health: { status: string };
}

async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await check();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

export async function runDemo({
  records,
  keep,
  dataDir: requested,
  vaultKey,
  print,
}: DemoOptions): Promise<void> {
  const { dir: dataDir, temporary } = await demoDataDir(requested);
  const kept = keep || !temporary;
  const token = `sqn_demo_${randomBytes(16).toString("hex")}`;
  const step = (n: number, text: string) => print(`\n[${n}/7] ${text}`);
  step(1, "Starting the service on an embedded Postgres (nothing to install)");
  const config = loadConfig({
    SEQUIN_DATA_DIR: dataDir,
    SEQUIN_PORT: "0",
    SEQUIN_API_TOKEN: token,
    ...(vaultKey === undefined || temporary ? {} : { SEQUIN_VAULT_KEY: vaultKey }),
  });
  const started = Date.now();
  let service: Awaited<ReturnType<typeof startService>>;
  try {
    service = await startService(config, { log: pino({ level: "silent" }) });
  } catch (error) {
    if (temporary && !keep) await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
  const api = new ApiClient(service.url, token, "the demo's service");
  const admin = new pg.Client({ connectionString: service.store.url });
  try {
    print(
      `      listening on ${service.url} (store ready in ${Date.now() - started} ms, data in ${dataDir})`,
    );
    if (!temporary && (await removeEarlierDemo(api))) print("      removed what an earlier demo made here");

    step(2, `Creating the sync "acme-hubspot" and ingesting ${records} contacts into its record stream`);
    const sync = await api.request<{ id: string }>("POST", "/v1/syncs", {
      name: names.sync,
      provider: "hubspot",
      collections: ["contact"],
    });
    const t0 = new Date(Date.UTC(2024, 4, 1));
    for (let offset = 0; offset < records; offset += 1000) {
      const batch = Array.from({ length: Math.min(1000, records - offset) }, (_, k) =>
        demoContact(offset + k, t0),
      );
      await api.request("POST", `/v1/syncs/${sync.id}/records`, { records: batch });
    }
    print(`      ${records} records in the stream`);

    step(3, "Preparing the target database with the recommended least-privilege setup: schema, user, grants");
    await admin.connect();
    await admin.query("drop database if exists demo_target with (force)");
    await admin.query("create database demo_target");
    const targetUrl = new URL(service.store.url);
    targetUrl.pathname = "/demo_target";
    const target = new pg.Client({ connectionString: targetUrl.toString() });
    await target.connect();
    const password = randomBytes(12).toString("base64url");
    const setup = setupSql({ schema: "crm", user: "sequin_demo", database: "demo_target", password });
    await target.query("drop role if exists sequin_demo").catch(() => {});
    await target.query(setup);
    print(indent(setup.replace(password, "********")));
    const registered = await api.request<{ id: string }>("POST", "/v1/targets/postgres", {
      name: names.target,
      connection: {
        host: targetUrl.hostname,
        port: Number(targetUrl.port),
        database: "demo_target",
        username: "sequin_demo",
        password,
        ssl: "disable",
      },
    });
    print(`      target registered as the least-privilege user "sequin_demo" (connection tested first)`);

    step(4, "Creating a consumer for every HubSpot sync, and running the create statement it hands out");
    const consumer = await api.request<ConsumerAnswer>("POST", "/v1/consumers/postgres", {
      name: names.consumer,
      target_id: registered.id,
      filter: { provider: "hubspot" },
      table: { schema: "crm", name: "records" },
    });
    print(indent(consumer.create_table_sql));
    const asUser = new pg.Client({ ...connectionOf(targetUrl), user: "sequin_demo", password });
    await asUser.connect();
    await asUser.query(consumer.create_table_sql);
    const verify = await api.request<{ ok: boolean }>("POST", `/v1/consumers/postgres/${consumer.id}/verify`);
    print(`      verify: ${verify.ok ? "the table matches the contract" : "problems found"}`);

    step(5, "Starting the consumer: backfill, then live");
    const backfillStart = Date.now();
    await api.request("POST", `/v1/consumers/postgres/${consumer.id}/start`);
    let lastShown = -1;
    const live = await until("the backfill", async () => {
      const c = await api.request<ConsumerAnswer>("GET", `/v1/consumers/postgres/${consumer.id}`);
      const pct = c.backfill ? Math.floor(c.backfill.progress * 100) : 100;
      if (pct !== lastShown && pct % 25 === 0) {
        print(`      backfilling… ${pct}% (${c.stats.upserted} rows)`);
        lastShown = pct;
      }
      return c.state === "live" && c.lag.records === 0 ? c : undefined;
    });
    const seconds = (Date.now() - backfillStart) / 1000;
    print(
      `      live: ${live.stats.upserted} rows backfilled in ${seconds.toFixed(2)} s, health ${live.health.status}`,
    );

    step(6, "Live changes: 3 contacts become leads, one is deleted upstream");
    const t1 = new Date(Date.UTC(2024, 4, 2));
    const changedAt = Date.now();
    await api.request("POST", `/v1/syncs/${sync.id}/records`, {
      records: [
        demoContact(3, t1, "lead"),
        demoContact(7, t1, "lead"),
        demoContact(11, t1, "lead"),
        {
          collection_id: "contact",
          upstream_id: String(1000 + 1),
          deleted: true,
          upstream_updated_at: t1.toISOString(),
        },
      ],
    });
    await until("the live changes", async () => {
      const { rows } = await asUser.query(
        "select count(*)::int as n from crm.records where upstream_id in ('1003','1007','1011') and payload->>'lifecyclestage' = 'lead'",
      );
      const { rows: gone } = await asUser.query(
        "select count(*)::int as n from crm.records where upstream_id = '1001'",
      );
      return rows[0].n === 3 && gone[0].n === 0 ? true : undefined;
    });
    print(`      applied in the target ${Date.now() - changedAt} ms after the ingest call returned`);

    step(7, "Querying a view: hubspot_leads, the README's example");
    const view = `create or replace view crm.hubspot_leads as (
  select upstream_id, payload ->> 'hubspot_owner_id' as hubspot_owner_id, (payload ->> 'createdate')::timestamp as createdate
  from crm.records
  where payload ->> 'lifecyclestage' = 'lead'
)`;
    print(indent(view));
    await asUser.query(view);
    const { rows: count } = await asUser.query("select count(*)::int as n from crm.hubspot_leads");
    const { rows: leads } = await asUser.query(
      "select * from crm.hubspot_leads where upstream_id in ('1003', '1007', '1011') order by upstream_id",
    );
    print(`      select * from crm.hubspot_leads → ${count[0].n} leads; the three that just changed:`);
    print(table(leads));
    await asUser.end();
    await target.end();
    print(
      "\nDone. Run `sequin start` to keep a service running; see README.md for the API, CLI and config file.",
    );
    if (kept) {
      print(
        `The demo's data is kept in ${dataDir}. Look around: SEQUIN_DATA_DIR=${dataDir} sequin start ` +
          "(it prints an admin API token at its first start; `sequin token create` makes another).",
      );
    }
  } finally {
    await admin.end().catch(() => {});
    await service.stop();
    if (!kept) await rm(dataDir, { recursive: true, force: true });
  }
}

/** Deletes the consumer, target and sync an earlier demo made in this data directory; whether there were any. */
async function removeEarlierDemo(api: ApiClient): Promise<boolean> {
  let removed = false;
  const kinds = [
    ["consumer", "/v1/consumers/postgres"],
    ["target", "/v1/targets/postgres"],
    ["sync", "/v1/syncs"],
  ] as const;
  for (const [kind, path] of kinds) {
    const { data } = await api.request<{ data: { id: string; name: string }[] }>("GET", path);
    for (const found of data.filter((item) => item.name === names[kind])) {
      await api.request("DELETE", `${path}/${found.id}`);
      removed = true;
    }
  }
  return removed;
}

function connectionOf(url: URL) {
  return { host: url.hostname, port: Number(url.port), database: url.pathname.slice(1) };
}

function indent(text: string): string {
  return text
    .split("\n")
    .map((line) => `      ${line}`)
    .join("\n");
}

function table(rows: Record<string, unknown>[]): string {
  if (rows.length === 0) return "      (no rows)";
  const columns = Object.keys(rows[0]!);
  const cells = rows.map((r) =>
    columns.map((c) => (r[c] instanceof Date ? (r[c] as Date).toISOString() : String(r[c]))),
  );
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)));
  const line = (values: string[]) => `      ${values.map((v, i) => v.padEnd(widths[i]!)).join(" | ")}`;
  return [line(columns), `      ${widths.map((w) => "-".repeat(w)).join("-+-")}`, ...cells.map(line)].join(
    "\n",
  );
}
