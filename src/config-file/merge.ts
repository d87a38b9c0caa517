/**
 * Several config files merged in order (`-f sequin.yaml -f sequin.dev.yaml`): a later file's values win.
 * Maps merge key by key; the lists `syncs`, `targets` and `consumers` merge entry by entry, matched on
 * `name` (a new name is added); any other value, lists included, is replaced as a whole.
 */
import type { ConfigProblem } from "./config-file-error.js";
import { formatPath } from "./config-file-error.js";
import type { Located } from "./located.js";

export const entityLists = ["syncs", "targets", "consumers"] as const;
export type EntityList = (typeof entityLists)[number];

function isEntityList(key: string): key is EntityList {
  return (entityLists as readonly string[]).includes(key);
}

export function entryName(entry: Located): string | undefined {
  if (entry.kind !== "map") return undefined;
  const name = entry.entries.get("name")?.node;
  return name?.kind === "scalar" && typeof name.value === "string" ? name.value : undefined;
}

export function mergeLocated(base: Located, over: Located, topLevel = true): Located {
  if (base.kind !== "map" || over.kind !== "map") return over;
  const entries = new Map(base.entries);
  for (const [key, entry] of over.entries) {
    const existing = entries.get(key);
    if (!existing) {
      entries.set(key, entry);
    } else if (topLevel && isEntityList(key)) {
      entries.set(key, { ...existing, node: mergeByName(existing.node, entry.node) });
    } else {
      entries.set(key, { ...existing, node: mergeLocated(existing.node, entry.node, false) });
    }
  }
  return { ...base, entries };
}

function mergeByName(base: Located, over: Located): Located {
  if (base.kind !== "seq" || over.kind !== "seq") return over;
  const items = [...base.items];
  for (const entry of over.items) {
    const name = entryName(entry);
    const at = name === undefined ? -1 : items.findIndex((item) => entryName(item) === name);
    if (at === -1) items.push(entry);
    else items[at] = mergeLocated(items[at]!, entry, false);
  }
  return { ...base, items };
}

/** Names used twice in one list of one file (merging would silently fold them into one). */
export function duplicateNames(root: Located): ConfigProblem[] {
  if (root.kind !== "map") return [];
  const problems: ConfigProblem[] = [];
  for (const list of entityLists) {
    const node = root.entries.get(list)?.node;
    if (node?.kind !== "seq") continue;
    const seen = new Map<string, number>();
    for (const item of node.items) {
      const name = entryName(item);
      if (name === undefined) continue;
      const first = seen.get(name);
      if (first === undefined) {
        seen.set(name, item.origin.line);
        continue;
      }
      const nameNode = item.kind === "map" ? item.entries.get("name")!.node : item;
      problems.push({
        file: nameNode.origin.file,
        line: nameNode.origin.line,
        column: nameNode.origin.column,
        path: formatPath(nameNode.origin.path),
        message: `duplicate ${list.slice(0, -1)} name ${JSON.stringify(name)} (first at line ${first}): names must be unique`,
      });
    }
  }
  return problems;
}
