/**
 * A data directory of the test's own for `sequin start` on an embedded store, removed after the file's
 * tests; an embedded server left running by a test that failed half-way is shut down first.
 */
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { onCleanup } from "./cleanup.js";

export async function tempDataDir(prefix = "sequin-data-"): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  onCleanup(async () => {
    const pidFile = join(dir, "pg", "pgdata", "postmaster.pid");
    if (existsSync(pidFile)) {
      try {
        process.kill(Number(readFileSync(pidFile, "utf8").split("\n")[0]), "SIGQUIT");
      } catch {}
    }
    await rm(dir, { recursive: true, force: true });
  });
  return dir;
}
