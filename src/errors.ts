/**
 * The closed set of errors the service raises on purpose. Each has a stable `code` that the API returns
 * and that docs/errors.md explains; the HTTP status of each code lives in one table so a new code without
 * a status does not compile.
 */
export type ErrorCode =
  | "validation_failed"
  | "unauthorized"
  | "not_found"
  | "conflict"
  | "payload_too_large"
  | "target_unreachable"
  | "table_invalid"
  | "config_invalid"
  | "store_unavailable"
  | "provider_refused"
  | "provider_unavailable"
  | "internal";

export const httpStatusByCode: Record<ErrorCode, number> = {
  validation_failed: 400,
  unauthorized: 401,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  target_unreachable: 422,
  table_invalid: 409,
  config_invalid: 400,
  store_unavailable: 503,
  provider_refused: 422,
  provider_unavailable: 502,
  internal: 500,
};

/** Field path → messages, as returned in the API's `validation_errors`. */
export type ValidationErrors = Record<string, string[]>;

export class SequinError extends Error {
  readonly code: ErrorCode;
  readonly validationErrors: ValidationErrors | undefined;
  /** Extra structured fields returned next to `summary` (e.g. a table's problems). */
  readonly details: Record<string, unknown> | undefined;

  constructor(
    code: ErrorCode,
    summary: string,
    options: { validationErrors?: ValidationErrors; details?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(summary, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "SequinError";
    this.code = code;
    this.validationErrors = options.validationErrors;
    this.details = options.details;
  }
}

export function validationError(validationErrors: ValidationErrors, summary?: string): SequinError {
  const first = Object.entries(validationErrors)[0];
  const text = summary ?? (first ? `${first[0]}: ${first[1].join("; ")}` : "invalid input");
  return new SequinError("validation_failed", text, { validationErrors });
}

export function notFound(what: string, id: string): SequinError {
  return new SequinError("not_found", `${what} ${id} not found`);
}

export function conflict(summary: string, details?: Record<string, unknown>): SequinError {
  return new SequinError("conflict", summary, details ? { details } : {});
}

/**
 * A unique violation (SQLSTATE 23505) on a name becomes a conflict naming it; any other error passes
 * through unchanged. Names of syncs, targets and consumers are unique.
 */
export function duplicateNameOr(error: unknown, kind: "sync" | "target" | "consumer", name: string): unknown {
  if ((error as { code?: string }).code !== "23505") return error;
  return conflict(`a ${kind} named ${JSON.stringify(name)} already exists: ${kind} names are unique`);
}
