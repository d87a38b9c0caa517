/**
 * What applying a config file would change on a server: create, update (field by field) or delete, in the
 * order apply runs them: syncs → targets → consumers, then deletions in reverse (consumers → targets →
 * syncs). Names are the keys matched on. Pure: the server's state comes in, a plan comes out.
 *
 * - An optional field left out of the file is not managed: it is never changed (create uses the default).
 * - Resources the file does not name are unmanaged: reported and left alone, deleted only with `prune`.
 * - Secrets cannot be compared (the API never returns them): a target's password is sent when the target is
 *   created, when its connection changes (a new host wants its own password), and with `updateSecrets`.
 * - A sync's source is sent whole when the sync is created; on an existing sync its address, allotment and
 *   poll interval are compared like other fields. Its credentials are sent as a target's password is: when
 *   its address changes (another address usually wants its own key) and with `updateSecrets`. A source
 *   cannot be added to a sync whose records are pushed: a file asking for one is refused at that line.
 */

import type { ServerState, SyncView } from "../api-client.js";
import type { ConsumerView } from "../consumer/index.js";
import type { TargetView } from "../targets/index.js";
import { ConfigFileError, type ConfigProblem, formatPath } from "./config-file-error.js";
import type { LoadedConfig } from "./load.js";
import type { ConsumerEntry, CredentialRefs, SecretRefs, SyncEntry, TargetEntry } from "./schema.js";

export type ResourceKind = "sync" | "target" | "consumer";
export type PlanAction = "create" | "update" | "delete";

export interface FieldChange {
  field: string;
  /** null: not set (or unknown, for a secret). */
  from: unknown;
  to: unknown;
  /** A secret: `to` is the `${VAR}` reference it is read from, never the value. */
  secret?: true;
}

export interface PlannedAction {
  action: PlanAction;
  kind: ResourceKind;
  name: string;
  changes: FieldChange[];
  /** Consequences worth knowing before applying, e.g. a consumer forwarding its stream again. */
  notes: string[];
}

export interface Plan {
  actions: PlannedAction[];
  /** On the server, not in the file: left alone unless pruning. */
  unmanaged: { kind: ResourceKind; name: string }[];
  summary: { create: number; update: number; delete: number };
}

export interface PlanOptions {
  /** Delete syncs, targets and consumers the file does not name. */
  prune?: boolean;
  /** Send every target's secrets (after rotating a password). */
  updateSecrets?: boolean;
}

type Fields = Record<string, unknown>;

/** Objects become dotted fields; lists and `metadata` are compared whole. */
function flatten(value: Fields, prefix = ""): Fields {
  const out: Fields = {};
  for (const [key, v] of Object.entries(value)) {
    if (v === undefined) continue;
    const field = prefix + key;
    if (v !== null && typeof v === "object" && !Array.isArray(v) && key !== "metadata") {
      Object.assign(out, flatten(v as Fields, `${field}.`));
    } else {
      out[field] = v;
    }
  }
  return out;
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Fields).sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
  }
  return JSON.stringify(value ?? null);
}

/** Field by field; only fields the desired side sets are compared, unless `all` (both sides' fields). */
function diff(
  desired: Fields,
  current: Fields,
  options: { all?: boolean; sets?: string[] } = {},
): FieldChange[] {
  const want = flatten(desired);
  const have = flatten(current);
  const fields = options.all ? [...new Set([...Object.keys(have), ...Object.keys(want)])] : Object.keys(want);
  const same = (field: string, a: unknown, b: unknown) =>
    options.sets?.includes(field) && Array.isArray(a) && Array.isArray(b)
      ? canonical([...new Set(a)].sort()) === canonical([...new Set(b)].sort())
      : canonical(a) === canonical(b);
  return fields
    .filter((field) => !same(field, have[field] ?? null, want[field] ?? null))
    .map((field) => ({ field, from: have[field] ?? null, to: want[field] ?? null }));
}

function created(desired: Fields): FieldChange[] {
  return Object.entries(flatten(desired)).map(([field, to]) => ({ field, from: null, to }));
}

const secret = (field: string, variable: string): FieldChange => ({
  field,
  from: null,
  to: `\${${variable}}`,
  secret: true,
});

// ---- syncs

function syncFields(sync: SyncEntry): Fields {
  return {
    provider: sync.provider,
    collections: sync.collections,
    external_id: sync.external_id,
    metadata: sync.metadata,
  };
}

/** A source's fields that the API shows back (credentials never), as the file sets them. */
function sourceFields(source: NonNullable<SyncEntry["source"]>): Fields {
  return {
    base_url: source.base_url,
    max_requests_per_second: source.max_requests_per_second,
    poll_interval_seconds: source.poll_interval_seconds,
    ...(source.settings !== undefined ? { settings: source.settings } : {}),
  };
}

function credentialSecrets(refs: CredentialRefs | undefined): FieldChange[] {
  return Object.entries(refs ?? {}).map(([field, variable]) =>
    secret(`source.credentials.${field}`, variable),
  );
}

function createdSource(sync: SyncEntry, refs: CredentialRefs | undefined): FieldChange[] {
  if (!sync.source) return [];
  // credential fields written inline are not secrets (the loader refuses secrets inline): shown as they are
  const plain = Object.entries(sync.source.credentials ?? {}).filter(([field]) => !refs?.[field]);
  const credentials = plain.length > 0 ? { credentials: Object.fromEntries(plain) } : {};
  return [
    ...credentialSecrets(refs),
    ...created({ source: { ...credentials, ...sourceFields(sync.source) } }),
  ];
}

/** The source's fields the file sets and the server has otherwise; its credentials when they must go too. */
function changedSource(
  sync: SyncEntry,
  current: SyncView,
  refs: CredentialRefs | undefined,
  options: PlanOptions,
): FieldChange[] {
  if (!sync.source || !current.source) return [];
  const have = current.source;
  const changes = diff(
    { source: sourceFields(sync.source) },
    {
      source: {
        base_url: have.base_url,
        max_requests_per_second: have.max_requests_per_second,
        poll_interval_seconds: have.poll_interval_seconds,
        settings: have.settings,
      },
    },
  );
  const moved = changes.some((c) => c.field === "source.base_url");
  return moved || options.updateSecrets ? [...changes, ...credentialSecrets(refs)] : changes;
}

function planSync(
  sync: SyncEntry,
  current: SyncView | undefined,
  refs: CredentialRefs | undefined,
  options: PlanOptions,
): PlannedAction | undefined {
  if (!current) {
    const changes = [...created(syncFields(sync)), ...createdSource(sync, refs)];
    return { action: "create", kind: "sync", name: sync.name, changes, notes: [] };
  }
  const changes = [
    ...diff(syncFields(sync), syncFields(current as SyncEntry), { sets: ["collections"] }),
    ...changedSource(sync, current, refs, options),
  ];
  if (changes.length === 0) return undefined;
  const dropped = sync.collections ? current.collections.filter((c) => !sync.collections!.includes(c)) : [];
  const notes =
    dropped.length > 0
      ? [
          `collection(s) ${dropped.map((c) => JSON.stringify(c)).join(", ")} leave the sync: their records are deleted from the stream (rows in targets stay)`,
        ]
      : [];
  return { action: "update", kind: "sync", name: sync.name, changes, notes };
}

/** A sync whose records are pushed cannot gain a source (the API refuses it): refused at the file's line. */
function sourceConflicts(loaded: LoadedConfig, state: ServerState): ConfigProblem[] {
  return loaded.config.syncs.flatMap((sync, i) => {
    const current = state.syncs.find((s) => s.name === sync.name);
    if (!current || !sync.source || current.source || current.provider !== sync.provider) return [];
    const origin = loaded.origin(["syncs", i, "source"]);
    return [
      {
        file: origin.file,
        line: origin.line,
        column: origin.column,
        path: formatPath(origin.path),
        message: `the server's sync ${JSON.stringify(sync.name)} has no source (its records are pushed): a source cannot be added to it; remove "source" here, or give the sync a new name (and delete the old one with --prune)`,
      },
    ];
  });
}

// ---- targets

function tunnelFields(tunnel: TargetEntry["ssh_tunnel"]): Fields | null | undefined {
  if (!tunnel) return tunnel;
  return {
    host: tunnel.host,
    port: tunnel.port,
    username: tunnel.username,
    key_id: tunnel.key_id,
    host_key_fingerprint: tunnel.host_key_fingerprint,
  };
}

function connectionFields(target: TargetEntry): Fields {
  const { password: _secret, ...connection } = target.postgres;
  return connection;
}

function tunnelSecrets(target: TargetEntry, refs: SecretRefs): FieldChange[] {
  if (!target.ssh_tunnel?.private_key) return [];
  const out = refs.private_key ? [secret("ssh_tunnel.private_key", refs.private_key)] : [];
  if (refs.passphrase) out.push(secret("ssh_tunnel.passphrase", refs.passphrase));
  return out;
}

function planTarget(
  target: TargetEntry,
  current: TargetView | undefined,
  refs: SecretRefs,
  options: PlanOptions,
): PlannedAction | undefined {
  const base = { kind: "target" as const, name: target.name, notes: [] };
  if (!current) {
    const changes = [
      ...created({ postgres: connectionFields(target) }),
      secret("postgres.password", refs.password),
      ...created({ ssh_tunnel: tunnelFields(target.ssh_tunnel) ?? undefined }),
      ...tunnelSecrets(target, refs),
    ];
    return { ...base, action: "create", changes };
  }
  const connection = diff({ postgres: connectionFields(target) }, { postgres: current.connection });
  const tunnel = planTunnel(target.ssh_tunnel, current.ssh_tunnel);
  const changes = [...connection];
  if (connection.length > 0 || options.updateSecrets)
    changes.push(secret("postgres.password", refs.password));
  changes.push(...tunnel);
  if (tunnel.length > 0 || (options.updateSecrets && target.ssh_tunnel)) {
    changes.push(...tunnelSecrets(target, refs));
  }
  return changes.length > 0 ? { ...base, action: "update", changes } : undefined;
}

function planTunnel(desired: TargetEntry["ssh_tunnel"], current: TargetView["ssh_tunnel"]): FieldChange[] {
  if (desired === undefined) return [];
  const have = current ? { host: current.host, port: current.port, username: current.username } : undefined;
  if (desired === null) return have ? diff({}, { ssh_tunnel: have }, { all: true }) : [];
  const want = tunnelFields(desired)!;
  if (!current) return created({ ssh_tunnel: want });
  const changes = diff(
    { ssh_tunnel: want },
    { ssh_tunnel: { ...have, key_id: current.key_id, host_key_fingerprint: current.host_key_fingerprint } },
  );
  if (desired.private_key !== undefined && current.key_id !== null) {
    changes.push({ field: "ssh_tunnel.key_id", from: current.key_id, to: null });
  }
  return changes;
}

// ---- consumers

export function isActive(state: ConsumerView["state"]): boolean {
  return state !== "inactive" && state !== "paused";
}

function consumerFields(consumer: ConsumerEntry): Fields {
  return {
    target: consumer.target,
    filter: consumer.filter,
    table: consumer.table,
    lag_alert_seconds: consumer.lag_alert_seconds,
    active: consumer.active,
  };
}

/** The consumer as the file would write it: target and sync by name. */
function currentConsumerFields(current: ConsumerView, state: ServerState): Fields {
  const target = state.targets.find((t) => t.id === current.target_id)?.name ?? current.target_id;
  const stored = current.filter;
  const filter =
    "provider" in stored
      ? { provider: stored.provider }
      : { sync: state.syncs.find((s) => s.id === stored.sync_id)?.name ?? stored.sync_id };
  return {
    target,
    filter,
    table: current.table,
    lag_alert_seconds: current.lag_alert_seconds,
    active: isActive(current.state),
  };
}

const consumerFieldOrder = ["target", "filter.", "table.", "lag_alert_seconds", "active"];

/** Changes that make a consumer forward its stream again from the beginning. */
export const redirectingFields = /^(target|filter\.|table\.)/;

function planConsumer(
  consumer: ConsumerEntry,
  current: ConsumerView | undefined,
  state: ServerState,
): PlannedAction | undefined {
  const base = { kind: "consumer" as const, name: consumer.name };
  if (!current) return { ...base, action: "create", changes: created(consumerFields(consumer)), notes: [] };
  const want = consumerFields(consumer);
  const have = currentConsumerFields(current, state);
  // a filter of another kind shows as one field unset and the other set
  const changes = diff(want, have);
  if ("filter" in want) {
    for (const key of Object.keys(have.filter as Fields)) {
      if (!(key in (want.filter as Fields)) && !changes.some((c) => c.field === `filter.${key}`)) {
        changes.push({ field: `filter.${key}`, from: (have.filter as Fields)[key], to: null });
      }
    }
  }
  if (changes.length === 0) return undefined;
  const rank = (c: FieldChange) =>
    consumerFieldOrder.findIndex((f) => c.field.startsWith(f)) * 2 + (c.to === null ? 0 : 1);
  changes.sort((a, b) => rank(a) - rank(b));
  const notes = changes.some((c) => redirectingFields.test(c.field))
    ? ["the consumer forwards its stream again from the beginning, into the table it now names"]
    : [];
  return { ...base, action: "update", changes, notes };
}

// ---- the plan

export function planChanges(loaded: LoadedConfig, state: ServerState, options: PlanOptions = {}): Plan {
  const { config } = loaded;
  const actions: PlannedAction[] = [];
  const conflicts = config.syncs.flatMap((sync, i) => {
    const current = state.syncs.find((s) => s.name === sync.name);
    if (!current || current.provider === sync.provider) return [];
    const origin = loaded.origin(["syncs", i, "provider"]);
    return [
      {
        file: origin.file,
        line: origin.line,
        column: origin.column,
        path: formatPath(origin.path),
        message: `the server's sync ${JSON.stringify(sync.name)} has provider ${JSON.stringify(current.provider)}: a sync's provider cannot change; give the sync a new name (and delete the old one with --prune)`,
      },
    ];
  });
  conflicts.push(...sourceConflicts(loaded, state));
  if (conflicts.length > 0) throw new ConfigFileError(conflicts);

  for (const sync of config.syncs) {
    const current = state.syncs.find((s) => s.name === sync.name);
    const action = planSync(sync, current, config.credentialRefs.get(sync.name), options);
    if (action) actions.push(action);
  }
  for (const target of config.targets) {
    const current = state.targets.find((t) => t.name === target.name);
    const action = planTarget(target, current, config.secretRefs.get(target.name)!, options);
    if (action) actions.push(action);
  }
  for (const consumer of config.consumers) {
    const action = planConsumer(
      consumer,
      state.consumers.find((c) => c.name === consumer.name),
      state,
    );
    if (action) actions.push(action);
  }

  const unmanaged: Plan["unmanaged"] = [];
  const absent = (kind: ResourceKind, names: string[], wanted: { name: string }[], note: string) => {
    for (const name of names.filter((n) => !wanted.some((w) => w.name === n))) {
      if (options.prune)
        actions.push({ action: "delete", kind, name, changes: [], notes: note ? [note] : [] });
      else unmanaged.push({ kind, name });
    }
  };
  absent(
    "consumer",
    state.consumers.map((c) => c.name),
    config.consumers,
    "its table and rows stay",
  );
  absent(
    "target",
    state.targets.map((t) => t.name),
    config.targets,
    "",
  );
  absent(
    "sync",
    state.syncs.map((s) => s.name),
    config.syncs,
    "its stream is deleted (rows in targets stay)",
  );

  const count = (action: PlanAction) => actions.filter((a) => a.action === action).length;
  return {
    actions,
    unmanaged,
    summary: { create: count("create"), update: count("update"), delete: count("delete") },
  };
}
