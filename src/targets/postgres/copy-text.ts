/**
 * Rows of a batch in Postgres COPY text format, for callers that hold records in memory rather than a
 * COPY stream from another database. Columns in the order the staging table's COPY expects them.
 */

export interface ApplyRow {
  sequin_id: string;
  sync_id: string;
  collection_id: string;
  upstream_id: string;
  /** Any JSON value, serialized with JSON.stringify; ignored (null) when `deleted`. */
  payload: unknown;
  /** A Date, or a timestamp with time zone as Postgres reads it (ISO 8601). */
  upstream_updated_at: Date | string;
  deleted?: boolean;
}

const nullField = "\\N";
const special = /[\\\t\n\r]/;

/** One field: backslash, tab, newline and carriage return escaped. */
export function copyField(value: string | null): string {
  if (value === null) return nullField;
  if (!special.test(value)) return value;
  return value.replace(/\\/g, "\\\\").replace(/\t/g, "\\t").replace(/\n/g, "\\n").replace(/\r/g, "\\r");
}

function payloadText(row: ApplyRow): string | null {
  if (row.deleted) return null;
  const json = JSON.stringify(row.payload);
  if (json === undefined) throw new TypeError(`record ${row.sequin_id}: payload is not a JSON value`);
  return json;
}

function copyLine(row: ApplyRow): string {
  const at = row.upstream_updated_at;
  return [
    copyField(row.sequin_id),
    copyField(row.sync_id),
    copyField(row.collection_id),
    copyField(row.upstream_id),
    copyField(payloadText(row)),
    copyField(at instanceof Date ? at.toISOString() : at),
    row.deleted ? "t" : "f",
  ].join("\t");
}

/** `rows` as COPY text: one line per row, each ending with a newline. */
export function toCopyText(rows: readonly ApplyRow[]): string {
  let text = "";
  for (const row of rows) text += `${copyLine(row)}\n`;
  return text;
}

/** The same text in chunks of `rowsPerChunk` rows, to stream a large batch without one huge string. */
export function* copyTextChunks(rows: readonly ApplyRow[], rowsPerChunk = 1000): Generator<string> {
  for (let i = 0; i < rows.length; i += rowsPerChunk) yield toCopyText(rows.slice(i, i + rowsPerChunk));
}
