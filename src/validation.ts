/** Turns zod issues into the API's `validation_errors`: dotted paths with array indices, e.g. `records[3].payload`. */
import type { z } from "zod";
import { type SequinError, type ValidationErrors, validationError } from "./errors.js";
import { parseInput } from "./input-rules.js";

export function issuePath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out === "" ? String(part) : `.${String(part)}`;
  }
  return out === "" ? "body" : out;
}

export function zodValidationErrors(issues: readonly z.core.$ZodIssue[]): ValidationErrors {
  // a Map, not an object: field names come from the client ("constructor", "__proto__")
  const errors = new Map<string, string[]>();
  for (const issue of issues) {
    const key = issuePath(issue.path);
    const message =
      issue.code === "unrecognized_keys"
        ? `${issue.keys.length === 1 ? "unknown field" : "unknown fields"}: ${issue.keys.join(", ")}`
        : issue.message;
    errors.set(key, [...(errors.get(key) ?? []), message]);
  }
  return Object.fromEntries(errors);
}

/**
 * Parses `value` with `schema` and the text rule (input-rules.ts) or throws a validation_failed
 * SequinError naming each field.
 */
export function parseOrThrow<T>(schema: z.ZodType<T>, value: unknown, summaryPrefix = ""): T {
  const result = parseInput(schema, value);
  if (result.success) return result.data;
  throw zodError(result.issues, summaryPrefix);
}

export function zodError(issues: readonly z.core.$ZodIssue[], summaryPrefix = ""): SequinError {
  const errors = zodValidationErrors(issues);
  const [field, messages] = Object.entries(errors)[0]!;
  return validationError(errors, `${summaryPrefix}${field}: ${messages.join("; ")}`);
}
