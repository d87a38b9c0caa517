/**
 * The syncs part of `sequin status`: one line per sync (name, provider) and, for a sync that pulls its
 * provider, the source's state, records, backfill progress, requests and throttled requests, then one
 * indented line per collection. A sync without a source has its records pushed through the API: nothing
 * runs for it here, so it is listed but has no state of its own.
 *
 * A sourced sync is unhealthy when it is failing (the provider refuses the credential, cannot be asked, or
 * an object is refused) or when its health says so (e.g. changes not polled for a long while): it makes
 * `sequin status` exit 1, as an unhealthy consumer does. Being paused alone is not unhealthy: it was asked.
 */
import { plural } from "../plural.js";
import { formatTable } from "./status-table.js";

export interface SyncStatus {
  name: string;
  provider: string;
  source?: {
    state: "backfilling" | "live" | "paused" | "failing";
    collections: {
      collection_id: string;
      state: "backfilling" | "live";
      records: number;
      backfill: { fetched: number; done: boolean };
    }[];
    rebackfill: string | null;
    last_error: { kind: string; message: string; at: string } | null;
    failing_since: string | null;
    requests: number;
    throttled: number;
    health?: { status: "healthy" | "unhealthy"; notes: string[] };
  };
}

type Source = NonNullable<SyncStatus["source"]>;

const titles = ["SYNC", "PROVIDER", "SOURCE", "RECORDS", "BACKFILL", "REQUESTS", "THROTTLED", "NOTE"];
const right = [false, false, false, true, false, true, true, false];

export function isUnhealthySync(sync: SyncStatus): boolean {
  const source = sync.source;
  if (!source) return false;
  return source.state === "failing" || source.health?.status === "unhealthy";
}

function note(source: Source): string {
  const said = source.health?.notes[0];
  if (source.state === "failing" && source.last_error) {
    return (
      said ?? `Failing since ${source.failing_since ?? source.last_error.at}: ${source.last_error.message}`
    );
  }
  if (said) return said;
  if (source.state === "paused") return "Paused: the provider is not asked until the sync is resumed.";
  if (source.rebackfill) return `Reading everything again: ${source.rebackfill}.`;
  return "";
}

function syncRows(sync: SyncStatus): string[][] {
  const source = sync.source;
  if (!source)
    return [[sync.name, sync.provider, "-", "-", "-", "-", "-", "No source: records are pushed to it."]];
  const done = source.collections.filter((c) => c.backfill.done).length;
  const records = source.collections.reduce((sum, c) => sum + c.records, 0);
  const head = [
    sync.name,
    sync.provider,
    source.state,
    String(records),
    `${done}/${source.collections.length} done`,
    String(source.requests),
    String(source.throttled),
    note(source),
  ];
  const collections = source.collections.map((c) => [
    `  ${c.collection_id}`,
    "",
    c.state,
    String(c.records),
    c.backfill.done ? `done (${c.backfill.fetched})` : `${c.backfill.fetched} fetched`,
    "",
    "",
    "",
  ]);
  return [head, ...collections];
}

function bucket(sync: SyncStatus): string {
  if (!sync.source) return "without a source";
  return isUnhealthySync(sync) ? "unhealthy" : sync.source.state;
}

export function syncStatusTable(syncs: SyncStatus[]): string {
  if (syncs.length === 0) return "no syncs\n";
  const counts = new Map<string, number>();
  for (const sync of syncs) counts.set(bucket(sync), (counts.get(bucket(sync)) ?? 0) + 1);
  const parts = ["live", "backfilling", "paused", "unhealthy", "without a source"]
    .filter((name) => name === "unhealthy" || (counts.get(name) ?? 0) > 0)
    .map((name) => `${counts.get(name) ?? 0} ${name}`);
  const table = formatTable(titles, right, syncs.flatMap(syncRows));
  return `${table}\n${plural(syncs.length, "sync")}: ${parts.join(", ")}\n`;
}
