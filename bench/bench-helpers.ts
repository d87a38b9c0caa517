/**
 * Shared pieces of the benchmarks: a throwaway Postgres cluster (default durability: fsync, full page
 * writes and synchronous commit stay on), realistic ~1 KB record payloads, timed phases with the CPU each
 * side spent, peak RSS sampling and the results table. See docs/benchmarks.md.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from "node:os";
import { dirname, join } from "node:path";
import pg from "pg";
import { PostgresCluster } from "../src/db/postgres-cluster.js";
import type { IncomingRecord } from "../src/stream/index.js";

// ---------------------------------------------------------------------------------------------------------
// Flags

/** Reads `--name value` flags; each default fixes the flag's type. Unknown flags fail loudly. */
export function parseFlags<T extends Record<string, number | string>>(argv: string[], defaults: T): T {
  const out: Record<string, number | string> = { ...defaults };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const name = arg.replace(/^--/, "");
    if (!arg.startsWith("--") || !(name in defaults)) {
      throw new Error(
        `unknown argument ${JSON.stringify(arg)}; flags: ${Object.keys(defaults)
          .map((k) => `--${k}`)
          .join(", ")}`,
      );
    }
    const value = argv[++i];
    if (value === undefined) throw new Error(`--${name} needs a value`);
    if (typeof defaults[name] === "number") {
      const n = Number(value.replace(/_/g, ""));
      if (!Number.isInteger(n) || n < 1)
        throw new Error(`--${name} must be a positive whole number (got ${value})`);
      out[name] = n;
    } else {
      out[name] = value;
    }
  }
  return out as T;
}

// ---------------------------------------------------------------------------------------------------------
// Cluster

export interface BenchCluster {
  cluster: PostgresCluster;
  /** Creates a database on the cluster and returns its URL. */
  createDatabase(name: string): Promise<string>;
  /** `select version()`. */
  version: string;
  /** CPU seconds used so far by the server: postmaster, its live backends and the ones it reaped. */
  cpuSeconds(): number;
  destroy(): Promise<void>;
}

/** Starts a Postgres cluster in a fresh temp directory with default durability settings. */
export async function startBenchCluster(): Promise<BenchCluster> {
  const cluster = new PostgresCluster({
    dataDir: join(tmpdir(), `sequin-bench-${randomBytes(4).toString("hex")}`),
    // Only limits that do not change durability or the write path.
    settings: { max_connections: "100" },
  });
  await cluster.start();
  const admin = new pg.Client({ connectionString: cluster.url() });
  await admin.connect();
  const version = (await admin.query<{ version: string }>("select version()")).rows[0]!.version;
  return {
    cluster,
    version,
    async createDatabase(name) {
      await admin.query(`create database ${name}`);
      const u = new URL(cluster.url());
      u.pathname = `/${name}`;
      return u.toString();
    },
    cpuSeconds: () => (cluster.pid ? processTreeCpuSeconds(cluster.pid) : 0),
    async destroy() {
      await admin.end().catch(() => {});
      await cluster.destroy();
    },
  };
}

const clockTicks = 100; // USER_HZ on Linux

function statFields(pid: number | string): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // fields after the command name, which may itself hold spaces and parentheses
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  } catch {
    return undefined;
  }
}

/** utime+stime+cutime+cstime of `pid` plus utime+stime of its live children (Linux; 0 elsewhere). */
function processTreeCpuSeconds(pid: number): number {
  const own = statFields(pid);
  if (!own) return 0;
  // after the name: state(0) ppid(1) … utime(11) stime(12) cutime(13) cstime(14)
  let ticks = Number(own[11]) + Number(own[12]) + Number(own[13]) + Number(own[14]);
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const f = statFields(entry);
    if (f && Number(f[1]) === pid) ticks += Number(f[11]) + Number(f[12]);
  }
  return ticks / clockTicks;
}

// ---------------------------------------------------------------------------------------------------------
// Payloads

/** A small seeded PRNG (mulberry32), so every run and every benchmark sees the same records. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const firstNames = [
  "Anna",
  "José",
  "Zoë",
  "Léa",
  "Øystein",
  "Mei",
  "Ahmed",
  "Sofía",
  "Jürgen",
  "Priya",
  "Tom",
];
const lastNames = ["Müller", "García", "O'Brien", "Nguyễn", "Smith", "Kowalski", "Dubois", "Tanaka", "Silva"];
const companies = [
  "Acme Corp",
  "Globex",
  "Initech",
  "Umbrella GmbH",
  "Société Générale",
  "Hooli",
  "北京科技",
];
const cities = ["Berlin", "São Paulo", "Zürich", "New York", "Kraków", "Tōkyō", "Montréal", "Austin"];
const stages = [
  "subscriber",
  "lead",
  "marketingqualifiedlead",
  "salesqualifiedlead",
  "opportunity",
  "customer",
];
const sources = [
  "ORGANIC_SEARCH",
  "PAID_SEARCH",
  "EMAIL_MARKETING",
  "SOCIAL_MEDIA",
  "REFERRALS",
  "DIRECT_TRAFFIC",
];
const jobs = [
  "VP Engineering",
  "Head of Data",
  "CTO",
  "Growth Lead",
  "Account Executive",
  "Data Engineer — EMEA",
];

export const benchEpochMs = Date.parse("2026-01-01T00:00:00Z");

/**
 * A HubSpot-contact-like payload (~1 KB as JSON): nested objects and arrays, strings, numbers, booleans,
 * nulls, a few non-ASCII characters.
 */
export function contactPayload(index: number, random: () => number): Record<string, unknown> {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const first = pick(firstNames);
  const last = pick(lastNames);
  const company = pick(companies);
  const domain = `${company.toLowerCase().replace(/[^a-z]+/g, "") || "example"}.com`;
  const created = new Date(benchEpochMs - Math.floor(random() * 3e10)).toISOString();
  const id = String(100_000 + index);
  return {
    id,
    properties: {
      firstname: first,
      lastname: last,
      email: `${first
        .toLowerCase()
        .normalize("NFD")
        .replace(/[^a-z]/g, "")}.${index}@${domain}`,
      phone: `+49 30 ${Math.floor(1e6 + random() * 9e6)}`,
      company,
      website: `https://www.${domain}`,
      jobtitle: pick(jobs),
      address: `${Math.floor(1 + random() * 200)} Hauptstraße`,
      city: pick(cities),
      zip: String(Math.floor(10000 + random() * 89999)),
      country: "Germany",
      lifecyclestage: pick(stages),
      hs_lead_status: random() < 0.5 ? "OPEN" : "IN_PROGRESS",
      hs_analytics_source: pick(sources),
      hs_analytics_num_page_views: Math.floor(random() * 500),
      hs_analytics_num_visits: Math.floor(random() * 80),
      num_associated_deals: Math.floor(random() * 5),
      annualrevenue: (random() * 1e7).toFixed(2),
      hs_email_optout: random() < 0.1,
      notes_last_contacted: random() < 0.3 ? null : created,
      hs_object_id: id,
      hs_all_owner_ids: [String(Math.floor(random() * 1e8)), String(Math.floor(random() * 1e8))],
      industry: random() < 0.5 ? "COMPUTER_SOFTWARE" : "FINANCIAL_SERVICES",
      hs_latest_source_data_1: random() < 0.5 ? "google" : "newsletter – spring ’26",
      twitterhandle: `@${first
        .toLowerCase()
        .normalize("NFD")
        .replace(/[^a-z]/g, "")}${index % 97}`,
      createdate: created,
      lastmodifieddate: new Date(benchEpochMs - Math.floor(random() * 1e9)).toISOString(),
    },
    associations: {
      companies: { results: [{ id: String(Math.floor(random() * 1e8)), type: "contact_to_company" }] },
      deals: {
        results: Array.from({ length: 1 + Math.floor(random() * 2) }, () => ({
          id: String(Math.floor(random() * 1e9)),
          type: "contact_to_deal",
        })),
      },
    },
    archived: false,
    createdAt: created,
  };
}

/** `count` contact records of one collection, ids 0…count-1, all last updated at `updatedAtMs`. */
export function contactRecords(count: number, updatedAtMs: number, seed = 42): IncomingRecord[] {
  const random = seededRandom(seed);
  const updatedAt = new Date(updatedAtMs).toISOString();
  return Array.from({ length: count }, (_, i) => ({
    collection_id: "contacts",
    upstream_id: String(100_000 + i),
    payload: contactPayload(i, random),
    upstream_updated_at: updatedAt,
  }));
}

/** The same records as new versions at another time (payload objects are shared, not copied). */
export function withUpdatedAt(records: IncomingRecord[], updatedAtMs: number): IncomingRecord[] {
  const updatedAt = new Date(updatedAtMs).toISOString();
  return records.map((r) => ({ ...r, upstream_updated_at: updatedAt }));
}

export function averageJsonBytes(records: IncomingRecord[], sample = 1000): number {
  const n = Math.min(sample, records.length);
  let bytes = 0;
  for (let i = 0; i < n; i++) bytes += Buffer.byteLength(JSON.stringify(records[i]!.payload));
  return Math.round(bytes / Math.max(n, 1));
}

export function chunk<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Runs `work` over `items` with `concurrency` callers, each taking the next item when it is done. */
export async function runConcurrently<T>(
  items: T[],
  concurrency: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const caller = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, caller));
}

// ---------------------------------------------------------------------------------------------------------
// Measuring

/** Samples this process's RSS; `peak()` is the highest seen since the last `reset()`. */
export class RssSampler {
  private max = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(intervalMs = 25) {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  sample(): number {
    const rss = process.memoryUsage.rss();
    if (rss > this.max) this.max = rss;
    return rss;
  }

  reset(): void {
    this.max = 0;
    this.sample();
  }

  peak(): number {
    this.sample();
    return this.max;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

export interface PhaseResult {
  technique: string;
  records: number;
  seconds: number;
  rate: number;
  /** CPU seconds of this process (client, and the service when it runs in-process). */
  nodeCpu: number;
  /** CPU seconds of the Postgres server. */
  serverCpu: number;
  /** Peak RSS of this process during the phase, bytes. */
  peakRss: number;
  /** Set on medians: the median of the per-run ratios to the baseline (more robust than a ratio of medians). */
  ratio?: number;
}

export interface MeasureEnv {
  rss: RssSampler;
  serverCpuSeconds: () => number;
  /** When set, a V8 CPU profile of each phase is written there as `<technique>.cpuprofile`. */
  profileDir?: string | undefined;
}

/** Times `fn` (which handles `records` records) and the CPU both sides spent meanwhile. */
export async function measure(
  technique: string,
  records: number,
  fn: () => Promise<void>,
  env: MeasureEnv,
): Promise<PhaseResult> {
  const profiler = env.profileDir ? await startProfiler() : undefined;
  env.rss.reset();
  const server0 = env.serverCpuSeconds();
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await fn();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  if (profiler && env.profileDir) {
    const file = join(
      env.profileDir,
      `${technique.replace(/[^a-z0-9]+/gi, "-").replace(/^-|-$/g, "")}.cpuprofile`,
    );
    await profiler.stop(file);
  }
  return {
    technique,
    records,
    seconds,
    rate: records / seconds,
    nodeCpu: (cpu.user + cpu.system) / 1e6,
    serverCpu: env.serverCpuSeconds() - server0,
    peakRss: env.rss.peak(),
  };
}

/** The V8 profiler of this process, started now; `stop(file)` writes a .cpuprofile (Chrome DevTools). */
async function startProfiler(): Promise<{ stop(file: string): Promise<void> }> {
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.setSamplingInterval", { interval: 1000 });
  await session.post("Profiler.start");
  return {
    async stop(file) {
      const { profile } = await session.post("Profiler.stop");
      session.disconnect();
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, JSON.stringify(profile));
    },
  };
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

// ---------------------------------------------------------------------------------------------------------
// Reporting

const mb = (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MB`;

function formatRate(rate: number): string {
  return rate >= 1000 ? `${(rate / 1000).toFixed(1)}k` : rate.toFixed(0);
}

/** Prints the results as an aligned table; ratios are against the result named `baseline`. */
export function printResults(results: PhaseResult[], baseline: string): void {
  const base = results.find((r) => r.technique === baseline)?.rate;
  const header = ["technique", "records", "seconds", "rec/s", "vs COPY", "node CPU", "pg CPU"];
  header.push("node µs/rec", "pg µs/rec", "peak RSS");
  const rows = results.map((r) => [
    r.technique,
    String(r.records),
    r.seconds.toFixed(2),
    formatRate(r.rate),
    r.ratio !== undefined ? r.ratio.toFixed(2) : base ? (r.rate / base).toFixed(2) : "—",
    `${Math.round((100 * r.nodeCpu) / r.seconds)}%`,
    `${Math.round((100 * r.serverCpu) / r.seconds)}%`,
    ((1e6 * r.nodeCpu) / r.records).toFixed(1),
    ((1e6 * r.serverCpu) / r.records).toFixed(1),
    mb(r.peakRss),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  console.log(line(header));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const row of rows) console.log(line(row));
  console.log(
    "node/pg CPU: share of one core during the phase (node = this process, pg = all server processes);\n" +
      "µs/rec: CPU time per record, which moves far less than rec/s when other work shares the machine.",
  );
}

export function machineFacts(pgVersion: string): string[] {
  const cpu = cpus()[0]?.model.trim() ?? "unknown CPU";
  return [
    `cores: ${availableParallelism()} (${cpu})`,
    `memory: ${Math.round(totalmem() / 1024 ** 3)} GB`,
    `node: ${process.version}`,
    `postgres: ${pgVersion}`,
  ];
}

/**
 * The 1-minute load average, with a warning when other work shares the machine: figures then drift (up to
 * 2x); compare the ratios, or rerun when it is quiet. Taken "before" a benchmark it shows the machine;
 * "after", it includes the benchmark's own work (no warning then).
 */
export function loadNote(when?: "before" | "after"): string {
  const load = loadavg()[0]!.toFixed(2);
  if (when === "after") return `load average (1 min) after the run, its own work included: ${load}`;
  const busy = Number(load) > availableParallelism() / (when === "before" ? 4 : 2);
  const warning = busy ? " — other work shares the machine, figures will drift" : "";
  return `load average (1 min)${when === "before" ? " before the run" : ""}: ${load}${warning}`;
}

export function peakProcessRss(): string {
  // maxRSS is in kilobytes
  return mb(process.resourceUsage().maxRSS * 1024);
}
