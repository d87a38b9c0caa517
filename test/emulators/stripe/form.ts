/**
 * Stripe's request bodies are form-encoded with bracketed keys (`metadata[plan]=pro`, `items[0][price]=…`).
 * This reads them into nested objects and arrays, and types a value after the field's default (a number stays
 * a number), because the form carries only strings.
 */
import type { JsonObject } from "./collections.js";

export function parseForm(body: string): JsonObject {
  const out: JsonObject = {};
  for (const [key, value] of new URLSearchParams(body)) {
    const path = key.split("[").map((part) => part.replace(/\]$/, ""));
    let node: Record<string, unknown> | unknown[] = out;
    for (let i = 0; i < path.length; i++) {
      const part = path[i]!;
      const last = i === path.length - 1;
      const nextIsIndex = !last && /^\d*$/.test(path[i + 1]!);
      const slot = Array.isArray(node) ? (part === "" ? node.length : Number(part)) : part;
      const container = node as Record<string | number, unknown>;
      if (last) {
        container[slot] = value;
      } else {
        container[slot] ??= nextIsIndex ? [] : {};
        node = container[slot] as Record<string, unknown> | unknown[];
      }
    }
  }
  return out;
}

/** Numbers and booleans where the collection's defaults say the field is one. */
export function typeFields(fields: JsonObject, defaults: JsonObject): JsonObject {
  const typed: JsonObject = {};
  for (const [key, value] of Object.entries(fields)) {
    const sample = defaults[key];
    if (typeof value === "string" && typeof sample === "number" && /^-?\d+$/.test(value))
      typed[key] = Number(value);
    else if (typeof value === "string" && typeof sample === "boolean") typed[key] = value === "true";
    else typed[key] = value;
  }
  return typed;
}
