/**
 * What may make a consumer do other than its user meant, without making it unhealthy: a filter that no
 * sync matches (a provider typed as "HubSpot" or "hubspt" would wait forever, live and healthy with no
 * rows), and a table that another consumer writes too.
 */
import { listOf } from "../plural.js";
import { builtInProviders, type Sync } from "../stream/index.js";
import { qualifiedName } from "../targets/postgres/index.js";
import type { ConsumerRow } from "./consumer-queries.js";
import type { ConsumerWarning } from "./consumer-schemas.js";

type Definition = Pick<
  ConsumerRow,
  "id" | "name" | "target_id" | "filter_provider" | "filter_sync_id" | "table_schema" | "table_name"
>;

/** The providers a filter can name: those of existing syncs and those a sync can pull by itself. */
export function knownProviders(syncs: Pick<Sync, "provider">[]): string[] {
  return [...new Set([...builtInProviders, ...syncs.map((s) => s.provider)])].sort();
}

export function noMatchingSync(provider: string, syncs: Pick<Sync, "provider">[]): ConsumerWarning {
  const known = knownProviders(syncs);
  const typo = known.includes(provider)
    ? ""
    : " Providers match exactly and are lower case: check the spelling, and change the filter if it is wrong.";
  return {
    kind: "no_matching_sync",
    message: `No sync matches provider "${provider}" yet, so this consumer writes nothing; known providers: ${known.join(", ")}.${typo}`,
  };
}

/** The consumers (other than `self`) that write the same table of the same target. */
export function sameTable(self: Definition, others: Definition[]): Definition[] {
  return others.filter(
    (o) =>
      o.id !== self.id &&
      o.target_id === self.target_id &&
      o.table_schema === self.table_schema &&
      o.table_name === self.table_name,
  );
}

export function sharedTable(self: Definition, sharing: Definition[]): ConsumerWarning {
  const table = qualifiedName({ schema: self.table_schema, name: self.table_name });
  const names = listOf(sharing.map((o) => `"${o.name}"`));
  const who = sharing.length === 1 ? `Consumer ${names} writes` : `Consumers ${names} write`;
  return {
    kind: "shared_table",
    message:
      `${who} the same table ${table} on this target: the rows of both mix, and rewriting the table from ` +
      "either consumer's stream deletes the other's rows. Give each consumer a table of its own.",
  };
}

export function consumerWarnings(
  row: Definition,
  context: { syncs: Pick<Sync, "id" | "provider">[]; consumers: Definition[] },
): ConsumerWarning[] {
  const warnings: ConsumerWarning[] = [];
  if (row.filter_provider !== null) {
    if (!context.syncs.some((s) => s.provider === row.filter_provider))
      warnings.push(noMatchingSync(row.filter_provider, context.syncs));
  } else if (!context.syncs.some((s) => s.id === row.filter_sync_id)) {
    warnings.push({
      kind: "no_matching_sync",
      message: `No sync has id ${row.filter_sync_id} (it may have been deleted), so this consumer writes nothing.`,
    });
  }
  const sharing = sameTable(row, context.consumers);
  if (sharing.length > 0) warnings.push(sharedTable(row, sharing));
  return warnings;
}
