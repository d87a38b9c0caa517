/**
 * Scenarios that check invariant 1 (convergence) under faults: a consumer process killed at random points,
 * a restarted target, concurrent out-of-order ingest. Each ends by comparing the whole table to the stream.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomInt } from "node:crypto";
import { once } from "node:events";
import { join } from "node:path";
import type pg from "pg";
import { type IncomingRecord, ingest } from "../../src/stream/index.js";

/** Random versions of keys 0..keys-1: upserts, deletes, and versions older than ones already sent. */
export function randomVersions(count: number, keys: number, clock: { now: number }): IncomingRecord[] {
  const byKey = new Map<string, IncomingRecord>();
  for (let i = 0; i < count; i++) {
    const key = String(randomInt(keys));
    clock.now += 1;
    // one in five versions is older than the clock: it may be stale, or new for its key
    const ts = clock.now - (randomInt(5) === 0 ? randomInt(1000) : 0);
    const at = new Date(Date.UTC(2024, 0, 1) + ts).toISOString();
    const collection = randomInt(4) === 0 ? "deal" : "contact";
    byKey.set(`${collection}/${key}`, {
      collection_id: collection,
      upstream_id: key,
      upstream_updated_at: at,
      ...(randomInt(8) === 0
        ? { deleted: true }
        : { payload: { n: ts, name: `name ${key}`, tags: ["a", "b"] } }),
    });
  }
  return [...byKey.values()];
}

/** Several writers ingesting random versions until stopped. */
export function startIngestLoad(pool: pg.Pool, syncIds: string[], keys: number, writers = 3) {
  let running = true;
  const clock = { now: 1_000_000 };
  let written = 0;
  const loops = Array.from({ length: writers }, async () => {
    while (running) {
      const syncId = syncIds[randomInt(syncIds.length)]!;
      await ingest(pool, syncId, randomVersions(randomInt(1, 200), keys, clock));
      written++;
    }
  });
  return {
    get batches() {
      return written;
    },
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

export interface WorkerProcess {
  child: ChildProcess;
  /** its worker id in the store */
  id: string;
  /** what it printed, line by line (its log, when started with TEST_LOG_LEVEL) */
  lines: string[];
  kill(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts the consumer worker in a child process and waits until it runs. `env`: TEST_LEASE_SECONDS, … */
export async function startWorkerProcess(
  storeUrl: string,
  vaultKey: Buffer,
  env: Record<string, string> = {},
  /** The fixture to run: consumers by default, or `source-worker-process.ts` */
  fixture = "consumer-worker-process.ts",
): Promise<WorkerProcess> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", join(import.meta.dirname, "../fixtures", fixture)],
    {
      env: {
        ...process.env,
        TEST_STORE_URL: storeUrl,
        TEST_VAULT_KEY: vaultKey.toString("base64"),
        ...env,
      },
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const lines: string[] = [];
  let partial = "";
  const id = await new Promise<string>((resolve, reject) => {
    child.stdout!.on("data", (chunk: Buffer) => {
      const parts = (partial + chunk.toString()).split("\n");
      partial = parts.pop()!;
      for (const line of parts) {
        lines.push(line);
        const ready = /^ready (\S+)/.exec(line);
        if (ready) resolve(ready[1]!);
      }
    });
    child.once("exit", (code) => reject(new Error(`worker process exited early (code ${code})`)));
  });
  return {
    child,
    id,
    lines,
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, "exit");
      child.kill("SIGKILL");
      await exited;
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, "exit");
      child.kill("SIGTERM");
      await exited;
    },
  };
}
