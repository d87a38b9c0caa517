/**
 * A real OpenSSH server playing the bastion: Debian's sshd, installed on first use when missing (as root),
 * started in the foreground on a free loopback port with a host key and an authorized_keys file of its
 * own, key authentication only. Killed after the file's tests.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { appendFile, mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { ensureSystemPackages, opensshServer } from "../../scripts/system-packages.js";
import { onCleanup } from "./cleanup.js";
import { waitFor } from "./wait.js";

const run = promisify(execFile);
const sshd = opensshServer.path;

/** Makes sure sshd is there: installs Debian's openssh-server when running as root, or fails saying how. */
export async function ensureSshd(): Promise<void> {
  ensureSystemPackages([opensshServer]);
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Child processes of `pid`, from /proc (sshd serves each connection in a child of its own session). */
async function descendants(pid: number): Promise<number[]> {
  const parents = new Map<number, number[]>();
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, "utf8").catch(() => "");
    // pid (comm) state ppid …: comm may hold spaces and parentheses, so read after the last ')'
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    if (Number.isFinite(ppid)) parents.set(ppid, [...(parents.get(ppid) ?? []), Number(entry)]);
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const child of parents.get(p) ?? []) {
      out.push(child);
      walk(child);
    }
  };
  walk(pid);
  return out;
}

export interface SshServerOptions {
  /** `AllowTcpForwarding`; default true. */
  allowTcpForwarding?: boolean;
}

export interface SshServer {
  host: string;
  port: number;
  /** The user the tests log in as (the one running them: sshd can only log in its own user unless root). */
  username: string;
  /** As `ssh-keygen -lf` prints the server's host key. */
  hostKeyFingerprint: string;
  /** Adds an authorized_keys line. */
  authorize(publicKeyLine: string): Promise<void>;
  /** Kills sshd and every connection it serves, as a crash of the bastion would. */
  kill(): Promise<void>;
  /** Kills the processes serving open connections only: the SSH connections drop, sshd still listens. */
  cutConnections(): Promise<number>;
  /** Starts it again on the same port with the same host key. */
  start(): Promise<void>;
}

export async function startSshServer(options: SshServerOptions = {}): Promise<SshServer> {
  await ensureSshd();
  const dir = join(tmpdir(), `sequin-sshd-${randomBytes(4).toString("hex")}`);
  await mkdir(dir, { recursive: true });
  onCleanup(() => rm(dir, { recursive: true, force: true }));
  // sshd running as root needs its privilege separation directory (made by the init system otherwise)
  if (process.getuid?.() === 0) await mkdir("/run/sshd", { recursive: true, mode: 0o755 });
  const hostKey = join(dir, "host_ed25519");
  await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "sequin-test-bastion", "-f", hostKey]);
  const { stdout } = await run("ssh-keygen", ["-lf", `${hostKey}.pub`]);
  const hostKeyFingerprint = stdout.split(" ")[1]!;
  const authorizedKeys = join(dir, "authorized_keys");
  await writeFile(authorizedKeys, "", { mode: 0o600 });
  const port = await freePort();
  const config = join(dir, "sshd_config");
  await writeFile(
    config,
    [
      `Port ${port}`,
      "ListenAddress 127.0.0.1",
      `HostKey ${hostKey}`,
      `PidFile ${join(dir, "sshd.pid")}`,
      `AuthorizedKeysFile ${authorizedKeys}`,
      "PubkeyAuthentication yes",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "PermitRootLogin prohibit-password",
      "UsePAM no",
      "StrictModes no",
      `AllowTcpForwarding ${options.allowTcpForwarding === false ? "no" : "yes"}`,
      "MaxStartups 100",
      "",
    ].join("\n"),
  );
  await run(sshd, ["-t", "-f", config]).catch((error: { stderr?: string }) => {
    throw new Error(`sshd refuses the test configuration: ${error.stderr}`);
  });

  let child: ChildProcess | undefined;
  const start = async () => {
    const proc = spawn(sshd, ["-D", "-e", "-f", config], { stdio: ["ignore", "ignore", "pipe"] });
    child = proc;
    let log = "";
    let exited = false;
    proc.stderr!.on("data", (chunk: Buffer) => {
      log = (log + chunk.toString()).slice(-4000);
    });
    proc.once("exit", () => {
      exited = true;
    });
    await waitFor(`sshd to listen on 127.0.0.1:${port}`, () => {
      if (exited) throw new Error(`sshd exited: ${log}`);
      return log.includes("Server listening on");
    });
  };
  const killDescendants = async (pid: number) => {
    const pids = await descendants(pid);
    for (const p of pids) {
      try {
        process.kill(p, "SIGKILL");
      } catch {
        // already gone
      }
    }
    // gone (or a zombie) means its sockets are closed
    await waitFor("sshd's connection processes to end", async () => {
      for (const p of pids) {
        const stat = await readFile(`/proc/${p}/stat`, "utf8").catch(() => "");
        if (stat !== "" && stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z") return false;
      }
      return true;
    });
    return pids.length;
  };
  const kill = async () => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((resolve) => proc.once("exit", resolve));
    // stopped first, so that it forks no connection process after its children were listed
    proc.kill("SIGSTOP");
    await killDescendants(proc.pid!);
    proc.kill("SIGKILL");
    await exited;
  };
  await start();
  onCleanup(kill);
  return {
    host: "127.0.0.1",
    port,
    username: userInfo().username,
    hostKeyFingerprint,
    authorize: (line) => appendFile(authorizedKeys, `${line.trim()}\n`),
    kill,
    cutConnections: async () => (child ? killDescendants(child.pid!) : 0),
    start,
  };
}

/** A client key pair made by ssh-keygen (optionally encrypted): `privateKey` text and `publicKey` line. */
export async function sshKeygenPair(passphrase = ""): Promise<{ privateKey: string; publicKey: string }> {
  const dir = join(tmpdir(), `sequin-key-${randomBytes(4).toString("hex")}`);
  await mkdir(dir);
  try {
    const file = join(dir, "id_ed25519");
    await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", passphrase, "-C", "sequin-test", "-f", file]);
    return {
      privateKey: await readFile(file, "utf8"),
      publicKey: (await readFile(`${file}.pub`, "utf8")).trim(),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
