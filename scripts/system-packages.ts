/**
 * Debian packages some tests drive for real: Chromium (the console's browser tests; playwright-core cannot
 * download browsers here), OpenSSH's server (the bastion tests) and curl (the README's guide, run as it is).
 * The test command installs whatever is missing once, before any test file starts: test files running side
 * by side each calling apt-get fought over dpkg's lock, and one could find /usr/sbin/sshd unpacked but not
 * yet configured (no `sshd` user). Installing needs root; otherwise the error says what to run.
 *
 *   node --import tsx scripts/system-packages.ts      install (or check) them all
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

export interface SystemPackage {
  /** Debian package name. */
  name: string;
  /** A file the package installs, checked before anything else. */
  path: string;
}

export const chromium: SystemPackage = { name: "chromium", path: "/usr/bin/chromium" };
export const opensshServer: SystemPackage = { name: "openssh-server", path: "/usr/sbin/sshd" };
export const curl: SystemPackage = { name: "curl", path: "/usr/bin/curl" };
export const testPackages = [chromium, opensshServer, curl];

/** Installed and configured: its file is there and dpkg finished setting it up (when dpkg is there at all). */
function installed(pkg: SystemPackage): boolean {
  if (!existsSync(pkg.path)) return false;
  // dpkg-query's own placeholder syntax, not a template string
  const format = "-f=$" + "{Status}";
  const status = spawnSync("dpkg-query", ["-W", format, pkg.name], { encoding: "utf8" });
  if (status.error) return true; // not a dpkg system: the file is all we can check
  return status.status === 0 && status.stdout.trim() === "install ok installed";
}

function aptGet(args: string[]): boolean {
  const result = spawnSync("apt-get", ["-o", "DPkg::Lock::Timeout=600", ...args], {
    stdio: ["ignore", "ignore", "inherit"],
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
  });
  return result.status === 0;
}

/** Installs the packages that are missing, in one apt-get call; throws saying what to run when it cannot. */
export function ensureSystemPackages(packages: readonly SystemPackage[]): void {
  const missing = packages.filter((pkg) => !installed(pkg));
  if (missing.length === 0) return;
  const names = missing.map((pkg) => pkg.name);
  const command = `apt-get install -y --no-install-recommends ${names.join(" ")}`;
  if (process.getuid?.() !== 0) {
    throw new Error(`${names.join(", ")} not installed, and installing needs root: run \`sudo ${command}\``);
  }
  const install = ["install", "-y", "--no-install-recommends", ...names];
  // the package lists may be missing or stale: update them only when the first try fails
  const ok = aptGet(install) || (aptGet(["update"]) && aptGet(install));
  const stillMissing = missing.filter((pkg) => !installed(pkg));
  if (!ok || stillMissing.length > 0) {
    throw new Error(
      `installing ${names.join(", ")} failed (\`${command}\`, see its output above); ` +
        `still missing: ${stillMissing.map((pkg) => pkg.path).join(", ") || "none"}`,
    );
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    ensureSystemPackages(testPackages);
    for (const pkg of testPackages) console.log(`${pkg.name}: ${pkg.path}`);
  } catch (error) {
    console.error((error as Error).message);
    process.exit(1);
  }
}
