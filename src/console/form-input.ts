/**
 * Forms in, validated with the same zod schemas as the API, errors out by field. Field names are the
 * API's paths (`connection.host`, `table.name`), so `validation_errors` keys land next to their inputs.
 */
import type { z } from "zod";
import { SequinError } from "../errors.js";
import { parseInput } from "../input-rules.js";
import { zodValidationErrors } from "../validation.js";

export type FormBody = Record<string, string>;
/** Field path → messages; the key `form` is for errors that belong to no single field. */
export type FieldErrors = Record<string, string[]>;

export function formBody(body: unknown): FormBody {
  return body && typeof body === "object" ? (body as FormBody) : {};
}

/** The trimmed value, or undefined when empty. */
export function text(body: FormBody, key: string): string | undefined {
  const value = body[key]?.trim();
  return value ? value : undefined;
}

/** A whole number when the value is one; otherwise the text, for the schema to refuse. */
export function integer(body: FormBody, key: string): number | string | undefined {
  const value = text(body, key);
  return value !== undefined && /^\d{1,9}$/.test(value) ? Number(value) : value;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; errors: FieldErrors };

export function parseForm<T>(schema: z.ZodType<T>, input: unknown): Parsed<T> {
  const result = parseInput(schema, input);
  if (result.success) return { ok: true, value: result.data };
  return { ok: false, errors: zodValidationErrors(result.issues) };
}

/**
 * A refusal of the domain as field errors: validation errors keep their paths, other codes go to the
 * field `fieldOf` names for them (or `form`). Anything else is not a refusal: rethrown.
 */
export function refusal(error: unknown, fieldOf: (e: SequinError) => string = () => "form"): FieldErrors {
  if (!(error instanceof SequinError)) throw error;
  if (error.validationErrors) return error.validationErrors;
  if (["conflict", "target_unreachable", "table_invalid"].includes(error.code)) {
    return { [fieldOf(error)]: [error.message] };
  }
  throw error;
}
