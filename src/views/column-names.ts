/**
 * Column names for payload keys: snake_case, unique within the view, at most 63 bytes. A nested key is
 * named after its parent and itself (`properties.email` → `properties_email`, `address.city` →
 * `address_city`), so the name says where the value comes from and two parents never clash on a shared key.
 * Names are always quoted in the SQL, so reserved words (`order`, `user`) and names starting with a digit
 * need nothing more.
 */
import { MAX_IDENTIFIER_BYTES } from "../targets/postgres/identifiers.js";

/** The record's own columns, first in every view: a payload key never takes their names. */
export const recordColumns = ["sequin_id", "sync_id", "upstream_id", "upstream_updated_at"] as const;

/** `firstName` → `first_name`, `SystemModstamp` → `system_modstamp`, `HTMLBody` → `html_body`. */
export function snakeCase(key: string): string {
  const words = key
    .replace(/([\p{Ll}0-9])(\p{Lu})/gu, "$1_$2")
    .replace(/(\p{Lu}+)(\p{Lu}\p{Ll})/gu, "$1_$2")
    .toLowerCase()
    .replace(/[^\p{L}\p{N}_]+/gu, "_")
    .replace(/^_+|_+$/g, "");
  return words === "" ? "field" : words;
}

/** The snake_case name of a dotted path's keys, joined by `_`. */
export function pathName(path: readonly string[]): string {
  return path.map(snakeCase).join("_");
}

/** `name` cut to at most `bytes` bytes of UTF-8, never inside a character. */
export function truncateBytes(name: string, bytes: number = MAX_IDENTIFIER_BYTES): string {
  let out = "";
  for (const char of name) {
    if (Buffer.byteLength(out + char, "utf8") > bytes) break;
    out += char;
  }
  return out;
}

/**
 * A unique name per path, in the order given. Paths whose keys already are snake_case get their name
 * before those that only map onto it (`first_name` keeps `first_name`; `firstName` then gets
 * `first_name_2`); a taken name gets the smallest free suffix `_2`, `_3`, … within 63 bytes.
 */
export function assignNames(paths: readonly (readonly string[])[]): string[] {
  const taken = new Set<string>(recordColumns);
  const names: string[] = new Array(paths.length);
  const exactFirst = paths
    .map((path, index) => ({ path, index, exact: pathName(path) === path.join("_") }))
    .sort((a, b) => Number(b.exact) - Number(a.exact) || a.index - b.index);
  for (const { path, index } of exactFirst) {
    const base = truncateBytes(pathName(path));
    let name = base;
    for (let n = 2; taken.has(name); n++) {
      const suffix = `_${n}`;
      name = truncateBytes(base, MAX_IDENTIFIER_BYTES - suffix.length) + suffix;
    }
    taken.add(name);
    names[index] = name;
  }
  return names;
}

/** The default view name: the consumer's table and the collection, e.g. `records_contacts`. */
export function defaultViewName(table: string, collectionId: string): string {
  return truncateBytes(`${table}_${snakeCase(collectionId)}`);
}
