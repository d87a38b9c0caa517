/**
 * Makes sure Debian's Chromium is installed for the console's browser tests (playwright-core drives it; it
 * cannot download browsers of its own here). As root, installs it with apt-get when missing; otherwise fails
 * with the command to run.
 *
 *   node --import tsx scripts/ensure-chromium.ts
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const chromiumPath = "/usr/bin/chromium";

function aptGet(args: string[]): boolean {
  const result = spawnSync("apt-get", args, {
    stdio: ["ignore", "ignore", "inherit"],
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
  });
  return result.status === 0;
}

/** Returns the path of the Chromium executable, installing it first when missing and possible. */
export function ensureChromium(): string {
  if (existsSync(chromiumPath)) return chromiumPath;
  if (process.getuid?.() !== 0) {
    throw new Error(
      `Chromium is not installed (${chromiumPath} is missing) and installing it needs root: ` +
        "run `sudo apt-get install -y chromium`, then the browser tests again",
    );
  }
  // the package lists may be missing or stale: update them only when the first try fails
  const installed =
    aptGet(["install", "-y", "--no-install-recommends", "chromium"]) ||
    (aptGet(["update"]) && aptGet(["install", "-y", "--no-install-recommends", "chromium"]));
  if (!installed || !existsSync(chromiumPath)) {
    throw new Error(
      `installing Chromium failed (apt-get install -y chromium, see its output above); ${chromiumPath} is still missing`,
    );
  }
  return chromiumPath;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    console.log(`Chromium: ${ensureChromium()}`);
  } catch (error) {
    console.error((error as Error).message);
    process.exit(1);
  }
}
