/**
 * Postgres consumers as the API, CLI, console and config file see them: define, verify, start, pause,
 * resume, change and delete. Runners live in the ConsumerWorker; this module only changes what is stored
 * and pokes the worker so it acts at once.
 */
import { randomUUID } from "node:crypto";
import type pg from "pg";
import { conflict, duplicateNameOr, notFound, SequinError, validationError } from "../errors.js";
import { countChangesUpTo, listSyncs, readPending, readStreamHead, streamStart } from "../stream/index.js";
import { verifyTable } from "../targets/postgres/index.js";
import { type ConsumerEvent, transition } from "./consumer-lifecycle.js";
import {
  activateConsumer,
  type ConsumerEventRow,
  type ConsumerRow,
  deleteConsumerRow,
  insertConsumer,
  insertConsumerEvent,
  pauseConsumerRow,
  selectConsumer,
  selectConsumerEvents,
  selectConsumers,
  updateConsumerDefinition,
} from "./consumer-queries.js";
import type { ConsumerPatch, ConsumerView, NewConsumer, VerifyResult } from "./consumer-schemas.js";
import { type ConsumerStatsRow, selectConsumerStats } from "./consumer-stats-queries.js";
import { type TableFindings, verifyAnswer } from "./consumer-verify.js";
import { consumerView, filterOf } from "./consumer-view.js";
import { consumerWarnings, sameTable, sharedTable } from "./consumer-warnings.js";
import { bumpFence, requestRewrite, rewriteCountCap } from "./rewrite-queries.js";

type WarningContext = Parameters<typeof consumerWarnings>[1];

/** What consumers need to know about targets. */
export interface TargetAccess {
  /** The target's name, or undefined when there is no such target. */
  name(targetId: string): Promise<string | undefined>;
  connect(targetId: string): Promise<pg.Client>;
}

export interface ConsumersDeps {
  pool: pg.Pool;
  targets: TargetAccess;
  lagAlertSeconds: number;
  /** The local worker, poked after a change so it claims or releases at once. */
  worker?: { poke(): Promise<void> };
}

/** Changes counted for a backfill's or a rewrite's total, at most. */
export const pendingCountCap = 1_000_000;

/**
 * A consumer's lag counts its pending changes up to this many ("at least" when it reaches it): every
 * consumer's lag is read in one statement every health round, so its cost stays bounded however far behind
 * they are (1,000 consumers at the cap: a million index entries). The age of the oldest pending change,
 * which health judges by, is exact whatever the backlog; a backfill's progress has its own exact count.
 */
export const lagCountCap = 1_000;

/**
 * A consumer as health, alerts and metrics see it: its view, the status it last alerted about, and its
 * target with the status that last alerted about (targets' health derives from their consumers'; null when
 * the target is gone).
 */
export interface ConsumerStatistics {
  view: ConsumerView;
  alerted: "healthy" | "unhealthy";
  target: { id: string; name: string; alerted: "healthy" | "unhealthy" } | null;
}

export class Consumers {
  constructor(private readonly deps: ConsumersDeps) {}

  async create(input: NewConsumer): Promise<ConsumerView> {
    await this.requireTarget(input.target_id);
    try {
      const row = await insertConsumer(this.deps.pool, {
        id: randomUUID(),
        name: input.name,
        target_id: input.target_id,
        filter_provider: "provider" in input.filter ? input.filter.provider : null,
        filter_sync_id: "sync_id" in input.filter ? input.filter.sync_id : null,
        table_schema: input.table.schema,
        table_name: input.table.name,
        lag_alert_seconds: input.lag_alert_seconds ?? null,
      });
      return this.view(row);
    } catch (error) {
      throw duplicateNameOr(error, "consumer", input.name);
    }
  }

  async list(): Promise<ConsumerView[]> {
    return (await this.statistics()).map((s) => s.view);
  }

  /**
   * Every consumer's view with the status it last alerted about, from two queries whatever their number:
   * the statistics of all consumers (lag included) and the syncs their warnings are judged against.
   */
  async statistics(): Promise<ConsumerStatistics[]> {
    const [rows, syncs] = await Promise.all([
      selectConsumerStats(this.deps.pool, lagCountCap),
      listSyncs(this.deps.pool),
    ]);
    // a consumer's warnings look at the consumers writing the same table: grouped once, not searched per consumer
    const sameTable = new Map<string, ConsumerStatsRow[]>();
    for (const row of rows) {
      const key = JSON.stringify([row.target_id, row.table_schema, row.table_name]);
      sameTable.set(key, [...(sameTable.get(key) ?? []), row]);
    }
    const now = new Date();
    return rows.map((row) => {
      const consumers = sameTable.get(JSON.stringify([row.target_id, row.table_schema, row.table_name]))!;
      const target =
        row.target_name !== null && row.target_alerted_status !== null
          ? { id: row.target_id, name: row.target_name, alerted: row.target_alerted_status }
          : null;
      return { view: this.viewOf(row, { syncs, consumers }, now), alerted: row.alerted_status, target };
    });
  }

  async get(id: string): Promise<ConsumerView> {
    const [rows, context] = await Promise.all([
      selectConsumerStats(this.deps.pool, lagCountCap, id),
      this.warningContext(),
    ]);
    if (!rows[0]) throw notFound("consumer", id);
    return this.viewOf(rows[0], context, new Date());
  }

  async events(id: string, limit = 50): Promise<ConsumerEventRow[]> {
    await this.row(id);
    return selectConsumerEvents(this.deps.pool, id, limit);
  }

  /** Changing the target, filter or table starts forwarding again from the stream's beginning. */
  async update(id: string, patch: ConsumerPatch): Promise<ConsumerView> {
    const current = await this.row(id);
    if (patch.target_id) await this.requireTarget(patch.target_id);
    const filter =
      patch.filter ??
      (current.filter_provider !== null
        ? { provider: current.filter_provider }
        : { sync_id: current.filter_sync_id! });
    const next = {
      name: patch.name ?? current.name,
      target_id: patch.target_id ?? current.target_id,
      filter_provider: "provider" in filter ? filter.provider : null,
      filter_sync_id: "sync_id" in filter ? filter.sync_id : null,
      table_schema: patch.table?.schema ?? current.table_schema,
      table_name: patch.table?.name ?? current.table_name,
      lag_alert_seconds:
        patch.lag_alert_seconds === undefined ? current.lag_alert_seconds : patch.lag_alert_seconds,
    };
    const reset =
      next.target_id !== current.target_id ||
      next.filter_provider !== current.filter_provider ||
      next.filter_sync_id !== current.filter_sync_id ||
      next.table_schema !== current.table_schema ||
      next.table_name !== current.table_name;
    let row: ConsumerRow | undefined;
    try {
      row = await updateConsumerDefinition(this.deps.pool, id, next, reset);
    } catch (error) {
      throw duplicateNameOr(error, "consumer", next.name);
    }
    if (!row) throw notFound("consumer", id);
    if (reset && row.state !== "inactive") {
      const head = await this.backfillHead(row);
      const state = row.desired === "paused" ? "paused" : "backfilling";
      row = (await activateConsumer(this.deps.pool, id, state, head)) ?? row;
      if (row.desired === "paused") await pauseConsumerRow(this.deps.pool, id);
      await this.deps.worker?.poke();
    }
    return this.view(row);
  }

  async delete(id: string): Promise<void> {
    if (!(await deleteConsumerRow(this.deps.pool, id))) throw notFound("consumer", id);
    await this.deps.worker?.poke();
  }

  /**
   * Compares the live table with the contract, connecting as the target's user, and answers for the
   * consumer's state: a failing consumer's answer leads with its failure and the fix.
   */
  async verify(id: string): Promise<VerifyResult> {
    const row = await this.row(id);
    const consumer = {
      state: row.state,
      table: { schema: row.table_schema, name: row.table_name },
      state_changed_at: row.state_changed_at.toISOString(),
      last_error: row.last_error,
    };
    return verifyAnswer(consumer, await this.verifyRow(row));
  }

  async start(id: string): Promise<ConsumerView> {
    const row = await this.row(id);
    const next = transition(row.state, "start", "backfilling");
    if (!next.ok) throw conflict(next.reason);
    if (row.state !== "inactive") return this.view(row);
    const verification = await this.verifyRow(row);
    if (!verification.ok) {
      throw new SequinError(
        "table_invalid",
        `table "${row.table_schema}"."${row.table_name}" does not match the contract: ${verification.problems
          .map((p) => p.message)
          .join("; ")}`,
        { details: { problems: verification.problems, warnings: verification.warnings } },
      );
    }
    const head = await this.backfillHead(row);
    const started = await activateConsumer(this.deps.pool, id, "backfilling", head);
    await this.recordEvent(row, "backfilling", "started by a user");
    await this.deps.worker?.poke();
    return this.view(started ?? row);
  }

  async pause(id: string): Promise<ConsumerView> {
    const row = await this.row(id);
    const next = this.allowed(row, "pause");
    if (next === row.state) return this.view(row);
    const paused = await pauseConsumerRow(this.deps.pool, id);
    await this.recordEvent(row, "paused", "paused by a user");
    await this.deps.worker?.poke();
    return this.view(paused ?? row);
  }

  async resume(id: string): Promise<ConsumerView> {
    const row = await this.row(id);
    const phase = row.backfill_head_txid !== null ? "backfilling" : "live";
    const next = this.allowed(row, "resume", phase);
    if (next === row.state) return this.view(row);
    const resumed = await activateConsumer(this.deps.pool, id, next, null);
    await this.recordEvent(row, next, "resumed by a user");
    await this.deps.worker?.poke();
    return this.view(resumed ?? row);
  }

  /**
   * Rewrites the consumer's table from the stream while live changes keep flowing: every record again,
   * then rows no longer in the stream deleted. Progress shows in the consumer's `backfill`.
   */
  async backfill(id: string): Promise<ConsumerView> {
    const row = await this.row(id);
    if (row.state === "inactive") {
      throw conflict(`consumer "${row.name}" has not been started yet: start it, and it backfills its table`);
    }
    const total = await countChangesUpTo(
      this.deps.pool,
      filterOf(row),
      { txid: row.cursor_txid, position: row.cursor_position },
      rewriteCountCap,
    );
    await requestRewrite(this.deps.pool, id, { reason: "asked for by a user", total });
    await insertConsumerEvent(this.deps.pool, {
      consumerId: id,
      from: row.state,
      to: row.state,
      note: "a rewrite of the table from the stream was asked for by a user",
    });
    await this.deps.worker?.poke();
    return this.get(id);
  }

  /**
   * "Retry now": a failing consumer retries its write, a consumer waiting for its target probes it, at once
   * instead of after its backoff. The runner is restarted from its position (wherever it runs).
   */
  async retry(id: string): Promise<ConsumerView> {
    const row = await this.row(id);
    if (row.state !== "failing" && row.state !== "waiting_for_target") {
      throw conflict(
        `consumer "${row.name}" is ${row.state.replace(/_/g, " ")}: only a failing consumer or one waiting for its target has something to retry`,
      );
    }
    await bumpFence(this.deps.pool, id);
    await this.deps.worker?.poke();
    return this.get(id);
  }

  private allowed(row: ConsumerRow, event: ConsumerEvent, phase: "backfilling" | "live" = "live") {
    const next = transition(row.state, event, phase);
    if (!next.ok) throw conflict(next.reason);
    return next.state;
  }

  private async recordEvent(row: ConsumerRow, to: ConsumerRow["state"], note: string): Promise<void> {
    if (row.state !== to)
      await insertConsumerEvent(this.deps.pool, { consumerId: row.id, from: row.state, to, note });
  }

  private async backfillHead(row: ConsumerRow) {
    const filter = filterOf(row);
    const [cursor, pending] = await Promise.all([
      readStreamHead(this.deps.pool, filter),
      readPending(this.deps.pool, filter, streamStart, pendingCountCap),
    ]);
    return { cursor, total: pending.records };
  }

  private async verifyRow(row: ConsumerRow): Promise<TableFindings> {
    let client: pg.Client;
    try {
      client = await this.deps.targets.connect(row.target_id);
    } catch (error) {
      throw new SequinError(
        "target_unreachable",
        `cannot connect to the target: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
    try {
      const result = await verifyTable(client, { schema: row.table_schema, name: row.table_name });
      const sharing = sameTable(row, await selectConsumers(this.deps.pool));
      if (sharing.length === 0) return result;
      return { ...result, warnings: [...result.warnings, sharedTable(row, sharing)] };
    } finally {
      await client.end().catch(() => {});
    }
  }

  private async row(id: string): Promise<ConsumerRow> {
    const row = await selectConsumer(this.deps.pool, id);
    if (!row) throw notFound("consumer", id);
    return row;
  }

  private async requireTarget(targetId: string): Promise<void> {
    if (!(await this.deps.targets.name(targetId))) {
      throw validationError({ target_id: [`no Postgres target has id ${targetId}`] });
    }
  }

  /** What the warnings of one consumer are judged against: the syncs and every consumer. */
  private async warningContext(): Promise<WarningContext> {
    const [syncs, consumers] = await Promise.all([
      listSyncs(this.deps.pool),
      selectConsumers(this.deps.pool),
    ]);
    return { syncs, consumers };
  }

  /** The consumer as it stands now (read again after a change). */
  private view(row: ConsumerRow): Promise<ConsumerView> {
    return this.get(row.id);
  }

  private viewOf(row: ConsumerStatsRow, context: WarningContext, now: Date): ConsumerView {
    return consumerView(row, {
      targetName: row.target_name ?? row.target_id,
      pending: { records: row.pending_records, oldestChangedAt: row.oldest_pending_at },
      lagThresholdSeconds: this.deps.lagAlertSeconds,
      warnings: consumerWarnings(row, context),
      now,
    });
  }
}
