/**
 * Carries out a plan against the server, in the plan's order (syncs → targets → consumers, then deletions
 * consumers → targets → syncs). A consumer going inactive is paused before it changes; one going active is
 * started (or resumed) after, and a consumer that keeps running into a new table has that table verified.
 * Stops at the first refusal: what was done stays done, and applying again continues from there.
 */

import { type ApiClient, ApiRefusal, type ServerState, type TableProblem } from "../api-client.js";
import type { ConsumerView } from "../consumer/index.js";
import type { Sync } from "../stream/index.js";
import type { TargetView } from "../targets/index.js";
import type { LoadedConfig } from "./load.js";
import { isActive, type Plan, type PlannedAction, redirectingFields } from "./plan.js";
import type { ConsumerEntry, SyncEntry, TargetEntry } from "./schema.js";

/** Applying stopped at `action`; `done` were applied before it. */
export class ApplyError extends Error {
  override name = "ApplyError";
  constructor(
    readonly action: PlannedAction,
    readonly done: PlannedAction[],
    message: string,
    readonly problems: TableProblem[],
    options: { cause?: unknown } = {},
  ) {
    super(message, options);
  }
}

export interface ApplyOptions {
  /** Called after each action is applied. */
  onApplied?: (action: PlannedAction) => void;
}

function defined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

class Applier {
  private readonly syncIds = new Map<string, string>();
  private readonly targetIds = new Map<string, string>();

  constructor(
    private readonly api: ApiClient,
    private readonly loaded: LoadedConfig,
    private readonly state: ServerState,
  ) {
    for (const s of state.syncs) this.syncIds.set(s.name, s.id);
    for (const t of state.targets) this.targetIds.set(t.name, t.id);
  }

  async run(action: PlannedAction): Promise<void> {
    switch (action.kind) {
      case "sync":
        return this.sync(action);
      case "target":
        return this.target(action);
      case "consumer":
        return this.consumer(action);
      default: {
        const unreachable: never = action.kind;
        return unreachable;
      }
    }
  }

  private desired<T extends { name: string }>(list: T[], name: string): T {
    return list.find((entry) => entry.name === name)!;
  }

  private async sync(action: PlannedAction): Promise<void> {
    const current = this.state.syncs.find((s) => s.name === action.name);
    if (action.action === "delete") {
      await this.api.request("DELETE", `/v1/syncs/${current!.id}`);
      return;
    }
    const sync: SyncEntry = this.desired(this.loaded.config.syncs, action.name);
    if (action.action === "create") {
      // with its source, credentials included: the server tries the credential before saving the sync
      const made = await this.api.request<Sync>("POST", "/v1/syncs", defined(sync));
      this.syncIds.set(made.name, made.id);
      return;
    }
    const { name: _name, provider: _provider, source, ...fields } = sync;
    const patch: Record<string, unknown> = defined(fields);
    const sourceChanges = action.changes.filter((c) => c.field.startsWith("source."));
    if (source && sourceChanges.length > 0) {
      // only what changed: a new address or credential is tried by the server before it is saved
      const changed = (field: string) => sourceChanges.some((c) => c.field === `source.${field}`);
      patch.source = defined({
        credentials: sourceChanges.some((c) => c.secret) ? source.credentials : undefined,
        base_url: changed("base_url") ? source.base_url : undefined,
        max_requests_per_second: changed("max_requests_per_second")
          ? source.max_requests_per_second
          : undefined,
        poll_interval_seconds: changed("poll_interval_seconds") ? source.poll_interval_seconds : undefined,
        settings: source.settings,
      });
    }
    await this.api.request("PATCH", `/v1/syncs/${current!.id}`, patch);
  }

  private async target(action: PlannedAction): Promise<void> {
    const current = this.state.targets.find((t) => t.name === action.name);
    if (action.action === "delete") {
      await this.api.request("DELETE", `/v1/targets/postgres/${current!.id}`);
      return;
    }
    const target: TargetEntry = this.desired(this.loaded.config.targets, action.name);
    if (action.action === "create") {
      const made = await this.api.request<TargetView>(
        "POST",
        "/v1/targets/postgres",
        defined({
          name: target.name,
          connection: target.postgres,
          ssh_tunnel: target.ssh_tunnel ?? undefined,
        }),
      );
      this.targetIds.set(made.name, made.id);
      return;
    }
    const touches = (prefix: string) => action.changes.some((c) => c.field.startsWith(prefix));
    const patch: Record<string, unknown> = {};
    if (touches("postgres.")) {
      const { password, ...connection } = target.postgres;
      const sendPassword = action.changes.some((c) => c.field === "postgres.password");
      patch.connection = sendPassword ? { ...connection, password } : connection;
    }
    if (touches("ssh_tunnel.")) patch.ssh_tunnel = target.ssh_tunnel ? defined(target.ssh_tunnel) : null;
    await this.api.request("PATCH", `/v1/targets/postgres/${current!.id}`, patch);
  }

  private async consumer(action: PlannedAction): Promise<void> {
    let current = this.state.consumers.find((c) => c.name === action.name);
    if (action.action === "delete") {
      await this.api.request("DELETE", `/v1/consumers/postgres/${current!.id}`);
      return;
    }
    const consumer: ConsumerEntry = this.desired(this.loaded.config.consumers, action.name);
    const definition = {
      target_id: this.targetIds.get(consumer.target)!,
      filter:
        "provider" in consumer.filter
          ? { provider: consumer.filter.provider }
          : { sync_id: this.syncIds.get(consumer.filter.sync)! },
      table: consumer.table,
      lag_alert_seconds: consumer.lag_alert_seconds,
    };
    const changed = (field: string) =>
      action.changes.some((c) => c.field === field || c.field.startsWith(`${field}.`));
    if (!current) {
      current = await this.api.request<ConsumerView>(
        "POST",
        "/v1/consumers/postgres",
        defined({ name: consumer.name, ...definition }),
      );
    } else {
      if (consumer.active === false && isActive(current.state)) {
        current = await this.api.request<ConsumerView>("POST", `/v1/consumers/postgres/${current.id}/pause`);
      }
      const patch = defined({
        target_id: changed("target") ? definition.target_id : undefined,
        filter: changed("filter") ? definition.filter : undefined,
        table: changed("table") ? definition.table : undefined,
        lag_alert_seconds: changed("lag_alert_seconds") ? definition.lag_alert_seconds : undefined,
      });
      if (Object.keys(patch).length > 0) {
        current = await this.api.request<ConsumerView>(
          "PATCH",
          `/v1/consumers/postgres/${current.id}`,
          patch,
        );
        const redirected = action.changes.some(
          (c) => redirectingFields.test(c.field) && !c.field.startsWith("filter."),
        );
        if (redirected && isActive(current.state)) await this.verify(current);
      }
    }
    if (consumer.active === true && current.state === "inactive") {
      await this.api.request("POST", `/v1/consumers/postgres/${current.id}/start`);
    } else if (consumer.active === true && current.state === "paused") {
      await this.api.request("POST", `/v1/consumers/postgres/${current.id}/resume`);
    }
  }

  /** A running consumer moved to another table: that table must match the contract, or it will fail. */
  private async verify(consumer: ConsumerView): Promise<void> {
    const result = await this.api.verify(consumer.id);
    if (result.ok) return;
    throw new ApiRefusal(
      409,
      "table_invalid",
      `table "${consumer.table.schema}"."${consumer.table.name}" does not match the contract (the consumer keeps retrying until it does): ${result.problems.map((p) => p.message).join("; ")}`,
      undefined,
      result.problems,
    );
  }
}

export async function applyPlan(
  api: ApiClient,
  loaded: LoadedConfig,
  state: ServerState,
  plan: Plan,
  options: ApplyOptions = {},
): Promise<void> {
  const applier = new Applier(api, loaded, state);
  const done: PlannedAction[] = [];
  for (const action of plan.actions) {
    try {
      await applier.run(action);
    } catch (error) {
      if (!(error instanceof ApiRefusal)) throw error;
      // the problems are listed one by one: keep the summary's first clause only
      const cut = error.summary.indexOf(": ");
      // the provider's reason is the summary; its field entry only repeats it
      const reason =
        error.problems.length > 0 && cut > 0
          ? error.summary.slice(0, cut)
          : error.code === "provider_refused"
            ? error.summary
            : error.message;
      throw new ApplyError(
        action,
        done,
        `${action.action} ${action.kind} ${JSON.stringify(action.name)}: ${reason}`,
        error.problems,
        { cause: error },
      );
    }
    done.push(action);
    options.onApplied?.(action);
  }
}
