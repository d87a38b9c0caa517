/** A Postgres server of the test's own, for tests that stop, restart or kill it. */
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PostgresCluster } from "../../src/db/postgres-cluster.js";
import { onCleanup } from "./cleanup.js";

export async function startOwnCluster(): Promise<PostgresCluster> {
  const cluster = new PostgresCluster({
    dataDir: join(tmpdir(), `sequin-target-${randomBytes(4).toString("hex")}`),
    // commits must survive a SIGKILL of the server (the OS stays up, so fsync can be off, but
    // synchronous_commit cannot: acknowledged commits would be lost, as on any crashed server)
    settings: { fsync: "off", full_page_writes: "off" },
  });
  await cluster.start();
  onCleanup(() => cluster.destroy());
  return cluster;
}
