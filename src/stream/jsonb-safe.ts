/**
 * Postgres `jsonb` cannot hold the NUL character (\u0000) or lone UTF-16 surrogates, both of which are
 * legal in JSON text that upstream APIs send. The rule (docs/streams.md): such characters, in keys or
 * string values, are replaced by U+FFFD and the record is counted as `sanitized`. The record is kept.
 */

const replacement = "\uFFFD";
// NUL, or a high surrogate not followed by a low one, or a low surrogate not preceded by a high one.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching NUL is the point
const unsafeChars = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * Cheap pre-check on serialized JSON: JSON.stringify writes NUL and lone surrogates as escapes. A match
 * can be a false positive (an escaped backslash followed by "u0000"); `sanitizeValue` then decides.
 */
const suspiciousEscape = /\\u(0000|d[89a-f][0-9a-f]{2})/i;

function sanitizeString(value: string): string {
  return value.replace(unsafeChars, replacement);
}

function sanitizeValue(value: unknown): unknown {
  if (typeof value === "string") return sanitizeString(value);
  if (Array.isArray(value)) return value.map(sanitizeValue);
  if (value !== null && typeof value === "object") {
    // fromEntries defines own keys: a data key never becomes a prototype
    return Object.fromEntries(
      Object.entries(value).map(([key, inner]) => [sanitizeString(key), sanitizeValue(inner)]),
    );
  }
  return value;
}

/** Serializes a payload for jsonb; `sanitized` tells whether unsafe characters were replaced. */
export function toJsonbText(payload: Record<string, unknown>): { json: string; sanitized: boolean } {
  const json = JSON.stringify(payload);
  if (!suspiciousEscape.test(json)) return { json, sanitized: false };
  const cleaned = JSON.stringify(sanitizeValue(payload));
  return { json: cleaned, sanitized: cleaned !== json };
}
