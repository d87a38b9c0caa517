/** A session holding a write transaction open (an xid assigned), as a report or a forgotten `begin` would. */
import pg from "pg";
import type { Queryable } from "../../src/stream/index.js";
import { onCleanup } from "./cleanup.js";

export interface OpenWriteTransaction {
  /** the transaction's xid8 */
  xid: bigint;
  /** Rolls the transaction back and closes the session. */
  end(): Promise<void>;
}

/** Opens a session on `url` and a transaction in it that has written (a temp table), left open. */
export async function openWriteTransaction(url: string): Promise<OpenWriteTransaction> {
  const client = new pg.Client({ connectionString: url, application_name: "sequin-test-writer" });
  client.on("error", () => {});
  await client.connect();
  let ended = false;
  const end = async () => {
    if (ended) return;
    ended = true;
    await client.query("rollback").catch(() => {});
    await client.end();
  };
  onCleanup(end);
  await client.query("begin");
  await client.query("create temp table work_in_progress as select 1 as n");
  const { rows } = await client.query<{ xid: string }>("select pg_current_xact_id()::text as xid");
  return { xid: BigInt(rows[0]!.xid), end };
}

/** Whether the transaction `xid` is still running, as another session (`db`) sees it. */
export async function stillRunning(db: Queryable, xid: bigint): Promise<boolean> {
  const { rows } = await db.query<{ status: string }>("select pg_xact_status($1::xid8) as status", [
    xid.toString(),
  ]);
  return rows[0]!.status === "in progress";
}

/** The stream's watermark and the server-wide horizon it replaced, seen in one snapshot. */
export async function readWatermark(db: Queryable): Promise<{ watermark: bigint; serverXmin: bigint }> {
  const { rows } = await db.query<{ watermark: string; xmin: string }>(
    "select sequin_stream_watermark()::text as watermark, pg_snapshot_xmin(pg_current_snapshot())::text as xmin",
  );
  return { watermark: BigInt(rows[0]!.watermark), serverXmin: BigInt(rows[0]!.xmin) };
}
