/**
 * Column types from what the inference query counted per payload path (view-queries.ts). A path's type is
 * the tightest one every sampled value fits (value-guards.ts decides what fits), tried in this order:
 * boolean, date, timestamptz, bigint, numeric; else text. Objects below the first level and arrays are
 * jsonb. When most values fit a type but some do not, the column is text and `sample_errors` counts the
 * values that did not fit, so the misfits are seen instead of becoming NULL.
 */
import { SequinError } from "../errors.js";
import { assignNames, recordColumns } from "./column-names.js";
import { looksLikeIdentifier } from "./value-guards.js";

export const columnTypes = ["text", "bigint", "numeric", "boolean", "timestamptz", "date", "jsonb"] as const;
export type ColumnType = (typeof columnTypes)[number];

/** What the inference query counted for one path (one key, or one key of a first-level object). */
export interface PathCounts {
  path: string[];
  /** Rows where the path holds a value other than JSON null. */
  present: number;
  /** Of those, empty strings: no value for a typed column, a value for a text one. */
  empty: number;
  objects: number;
  arrays: number;
  booleans: number;
  integers: number;
  numbers: number;
  dates: number;
  /** ISO 8601 timestamps, with or without an offset, and dates. */
  timestamps: number;
  epochMilliseconds: number;
  /** JSON numbers only. */
  epochSeconds: number;
}

export interface InferredColumn {
  name: string;
  type: ColumnType;
  path: string[];
  /** The path dotted, as the API reports it: `properties.email`. */
  source_path: string;
  /** Some sampled row lacks the value (absent, null, or an empty string for a typed column). */
  nullable: boolean;
  /** Values that did not fit the type most values had, the column being text because of them. */
  sample_errors: number;
  /** Whether the view reads epoch seconds and milliseconds as times (never for keys named like ids). */
  epochs: boolean;
}

type Typing = Omit<InferredColumn, "name" | "path" | "source_path">;

function typeOfValues(counts: PathCounts, sampled: number): Typing {
  const absent = sampled - counts.present;
  const epochs = !looksLikeIdentifier(counts.path.at(-1)!);
  if (counts.objects > 0 || counts.arrays > 0) {
    return { type: "jsonb", nullable: absent > 0, sample_errors: 0, epochs };
  }
  const values = counts.present - counts.empty;
  if (values === 0)
    return { type: "text", nullable: absent > 0 || counts.empty > 0, sample_errors: 0, epochs };
  const candidates: [ColumnType, number][] = [
    ["boolean", counts.booleans],
    ["date", counts.dates],
    ["timestamptz", counts.timestamps + (epochs ? counts.epochMilliseconds + counts.epochSeconds : 0)],
    ["bigint", counts.integers],
    ["numeric", counts.numbers],
  ];
  const fit = candidates.find(([, n]) => n === values);
  if (fit) return { type: fit[0], nullable: absent + counts.empty > 0, sample_errors: 0, epochs };
  // the type most values have; it explains the misfits only when it is the type of most values
  const [, most] = candidates.reduce((best, c) => (c[1] > best[1] ? c : best));
  const sample_errors = most * 2 > values ? values - most : 0;
  return { type: "text", nullable: absent > 0, sample_errors, epochs };
}

function comparePaths(a: readonly string[], b: readonly string[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
  }
  return a.length - b.length;
}

/** A Postgres relation, a view included, has at most 1,600 columns; the record's own come first. */
export const maxPayloadColumns = 1600 - recordColumns.length;

/**
 * The first-level keys to replace by their keys' columns: those whose values are all objects. When that
 * makes more columns than a view may have, the objects with the most keys stay one jsonb column each,
 * largest first, until the rest fit.
 */
function objectsToExpand(top: readonly PathCounts[], nested: Map<string, PathCounts[]>): Set<string> {
  const expandable = top.filter((p) => {
    const children = nested.get(p.path[0]!)?.length ?? 0;
    return p.objects > 0 && p.objects === p.present && children > 0;
  });
  const expand = new Set(expandable.map((p) => p.path[0]!));
  const size = (key: string) => nested.get(key)!.length;
  let columns = top.length + [...expand].reduce((n, key) => n + size(key) - 1, 0);
  const largestFirst = [...expand].sort((a, b) => size(b) - size(a) || (a < b ? -1 : 1));
  for (const key of largestFirst) {
    if (columns <= maxPayloadColumns) break;
    expand.delete(key);
    columns -= size(key) - 1;
  }
  if (columns > maxPayloadColumns) {
    throw new SequinError(
      "conflict",
      `the sampled payloads have ${columns} keys; a Postgres view holds at most ${maxPayloadColumns} of them besides the record's own columns, so no view can show them all: read the rest from the table's payload`,
    );
  }
  return expand;
}

/**
 * One column per path, ordered by path. A first-level key whose values are all objects is replaced by its
 * keys' columns; one whose values are sometimes objects and sometimes not, or always empty objects, stays
 * one jsonb column.
 */
export function inferColumns(paths: readonly PathCounts[], sampled: number): InferredColumn[] {
  const sorted = [...paths].sort((a, b) => comparePaths(a.path, b.path));
  const nested = new Map<string, PathCounts[]>();
  for (const p of sorted) {
    if (p.path.length === 2) nested.set(p.path[0]!, [...(nested.get(p.path[0]!) ?? []), p]);
  }
  const top = sorted.filter((p) => p.path.length === 1);
  const expand = objectsToExpand(top, nested);
  const leaves = top.flatMap((p) => (expand.has(p.path[0]!) ? nested.get(p.path[0]!)! : [p]));
  const names = assignNames(leaves.map((p) => p.path));
  return leaves.map((p, i) => ({
    name: names[i]!,
    path: p.path,
    source_path: p.path.join("."),
    ...typeOfValues(p, sampled),
  }));
}
