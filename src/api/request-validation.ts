/**
 * Validation of request parts with their zod schemas. Issues keep their typed paths so that errors name
 * fields the way a client writes them: `records[3].upstream_updated_at`.
 */
import type { FastifySchemaCompiler } from "fastify";
import type { z } from "zod";
import { type ValidationErrors, validationError } from "../errors.js";
import { parseInput } from "../input-rules.js";

export class RequestValidationError extends Error {
  readonly statusCode = 400;
  readonly issues: z.core.$ZodIssue[];
  /** The request part: "body", "params", "querystring" or "headers" (set by fastify). */
  validationContext: string | undefined;

  constructor(issues: z.core.$ZodIssue[]) {
    super("request validation failed");
    this.name = "RequestValidationError";
    this.issues = issues;
  }
}

/** The part's schema, then the text rule (input-rules.ts). */
export const zodValidatorCompiler: FastifySchemaCompiler<z.ZodType> =
  ({ schema }) =>
  (data) => {
    const result = parseInput(schema, data);
    if (result.success) return { value: result.data };
    return { error: new RequestValidationError(result.issues) };
  };

/** `["records", 3, "upstream_updated_at"]` → `records[3].upstream_updated_at`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out === "" ? String(part) : `.${String(part)}`;
  }
  return out;
}

export function validationErrorsOf(issues: readonly z.core.$ZodIssue[], root: string): ValidationErrors {
  // a Map, not an object: field names come from the client ("constructor", "__proto__")
  const errors = new Map<string, string[]>();
  const add = (path: readonly PropertyKey[], message: string) => {
    const key = formatPath(path) || root;
    const list = errors.get(key) ?? [];
    if (!list.includes(message)) list.push(message);
    errors.set(key, list);
  };
  for (const issue of issues) {
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) add([...issue.path, key], "unknown field");
    } else {
      add(issue.path, issue.message);
    }
  }
  return Object.fromEntries(errors);
}

const rootNames: Record<string, string> = {
  body: "body",
  params: "path",
  querystring: "query",
  headers: "headers",
};

export function toSequinError(error: RequestValidationError) {
  const part = rootNames[error.validationContext ?? "body"] ?? "request";
  const errors = validationErrorsOf(error.issues, part);
  const entries = Object.entries(errors);
  const [firstKey, firstMessages] = entries[0] ?? [part, ["invalid"]];
  const more = entries.length > 1 ? ` (and ${entries.length - 1} more)` : "";
  const where = part === "body" ? "" : `${part} parameter `;
  return validationError(errors, `invalid ${where}${firstKey}: ${firstMessages.join("; ")}${more}`);
}
