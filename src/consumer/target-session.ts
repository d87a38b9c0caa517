/**
 * A consumer's connection to its target: connect (the target fence taken on every new session), cut, probe,
 * close. It is also the one place that knows "the target is down": the target monitor's verdict, a probe's
 * deadline and a cut connection all go through `markDown`, which fails whatever is in flight at once (a
 * black-holed connection would otherwise hang until TCP gives up) and is remembered until `clearDown`.
 */
import type pg from "pg";
import type { Logger } from "pino";
import { abortable, withTimeout } from "../runtime/index.js";
import {
  FenceRefused,
  prepareFencedSession,
  type TargetFence,
  takeFence,
} from "../targets/postgres/index.js";
import { RunnerFault } from "./runner-faults.js";

export interface TargetSessionDeps {
  /** A new connection to the target. */
  connect: () => Promise<pg.Client>;
  fence: TargetFence;
  /**
   * The worker's lease: a target session idle inside a transaction for longer ends itself, so a worker frozen
   * just before its COMMIT cannot hold the consumer's fence row from the next owner for long.
   */
  leaseSeconds?: number;
  log: Logger;
  consumerName: string;
}

export class TargetSession {
  private client: pg.Client | undefined;
  private down: string | undefined;
  /** Aborted when the target is found down, to cut a connection attempt that would hang until its timeout. */
  private downSignal = new AbortController();
  /** Set when the target user cannot create the fence table: batches then carry no target fence. */
  private fenceUnavailable = false;

  constructor(private readonly deps: TargetSessionDeps) {}

  /** Why the target was last found down, until clearDown(); undefined while nothing says so. */
  get downReason(): string | undefined {
    return this.down;
  }

  /** The open connection, or a new one with the fence taken. */
  async connection(): Promise<pg.Client> {
    if (this.client) return this.client;
    if (this.down) throw new RunnerFault({ kind: "target_down", message: this.down });
    const client = await abortable(this.deps.connect(), this.downSignal.signal, (late) => {
      late.end().catch(() => {});
    });
    // a connection that dies while idle must not crash the process; the next batch reconnects
    client.on("error", () => {
      if (this.client === client) this.client = undefined;
    });
    try {
      await this.takeFence(client);
    } catch (error) {
      await client.end().catch(() => {});
      throw error;
    }
    this.client = client;
    return client;
  }

  /** This consumer's fence as batches carry it; undefined when the target cannot hold one. */
  get batchFence(): TargetFence | undefined {
    return this.fenceUnavailable ? undefined : this.deps.fence;
  }

  /** The target is down: fail the query or connection attempt in flight at once and remember why. */
  markDown(reason: string): void {
    this.down = reason;
    this.downSignal.abort(new RunnerFault({ kind: "target_down", message: reason }));
    const client = this.client;
    this.client = undefined;
    // end() would wait for a dead peer: destroy the socket instead
    (
      client as unknown as { connection?: { stream?: { destroy(): void } } } | undefined
    )?.connection?.stream?.destroy();
  }

  /** The verdict is moot once the consumer waits for the target itself. */
  clearDown(): void {
    this.down = undefined;
    if (this.downSignal.signal.aborted) this.downSignal = new AbortController();
  }

  /** One probe (connect, `select 1`), bounded by `timeoutMs`: at the deadline the attempt is cut. */
  async probe(timeoutMs: number): Promise<void> {
    await withTimeout(timeoutMs, async (deadline) => {
      deadline.addEventListener("abort", () => this.markDown((deadline.reason as Error).message), {
        once: true,
      });
      const client = await this.connection();
      await client.query("select 1");
    });
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => {});
  }

  /**
   * The fence in the target (targets/postgres/target-fence.ts): taken on every new session, so once this
   * runner wrote there, nothing of an older owner commits. A user without the right to create the fence
   * table in the consumer's schema loses only this second check (the store's stays), with a warning.
   */
  private async takeFence(client: pg.Client): Promise<void> {
    if (this.fenceUnavailable) return;
    const fence = this.deps.fence;
    try {
      // never below 5 s: a busy process may pause that long between two statements of its own batch
      const idleMs = Math.max(5, this.deps.leaseSeconds ?? 15) * 1000;
      await prepareFencedSession(client, fence.schema, idleMs);
    } catch (error) {
      if ((error as { code?: string }).code !== "42501") throw error;
      this.fenceUnavailable = true;
      this.deps.log.warn(
        { consumer: this.deps.consumerName, schema: fence.schema },
        "the target user may not create the fence table sequin_fences in the consumer's schema; only the store checks this worker's lease (grant create on the schema to the user)",
      );
      return;
    }
    if (!(await takeFence(client, fence))) throw new FenceRefused(fence.fence);
  }
}
