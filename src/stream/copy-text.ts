/** Postgres COPY text format: fields separated by tabs, rows by newlines, `\N` for null. */

const special = /[\\\t\n\r]/;

export function copyField(value: string | null): string {
  if (value === null) return "\\N";
  if (!special.test(value)) return value;
  return value.replace(/\\/g, "\\\\").replace(/\t/g, "\\t").replace(/\n/g, "\\n").replace(/\r/g, "\\r");
}
