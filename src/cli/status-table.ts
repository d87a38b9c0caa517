/**
 * What `sequin status` prints: one line per consumer, the first health note of unhealthy ones, and what to do
 * with one not started yet. A consumer not started yet (state `inactive`) is shown as "not started" with
 * its lag (the changes waiting for it): it is not unhealthy, since nothing runs that could fail or fall
 * behind, but it is never hidden.
 */
import { plural } from "../plural.js";

export interface ConsumerStatus {
  name: string;
  state: string;
  health: { status: "healthy" | "unhealthy"; notes: string[] };
  lag: { records: number; seconds: number };
  stats: { upserted: number; deleted: number };
}

interface Column {
  title: string;
  value: (c: ConsumerStatus) => string;
  right?: boolean;
}

const columns: Column[] = [
  { title: "NAME", value: (c) => c.name },
  { title: "STATE", value: (c) => (notStarted(c) ? "not started" : c.state) },
  // healthy or unhealthy are words for something that runs
  { title: "HEALTH", value: (c) => (notStarted(c) && !isUnhealthy(c) ? "-" : c.health.status) },
  { title: "LAG RECORDS", value: (c) => String(c.lag.records), right: true },
  { title: "LAG SECONDS", value: (c) => c.lag.seconds.toFixed(1), right: true },
  { title: "UPSERTED", value: (c) => String(c.stats.upserted), right: true },
  { title: "DELETED", value: (c) => String(c.stats.deleted), right: true },
  // last, unpadded: notes are long
  { title: "NOTE", value: note },
];

function notStarted(consumer: ConsumerStatus): boolean {
  return consumer.state === "inactive";
}

function note(consumer: ConsumerStatus): string {
  if (isUnhealthy(consumer)) return consumer.health.notes[0] ?? "";
  if (notStarted(consumer)) return "Not started yet: verify its table, then start it.";
  return "";
}

export function isUnhealthy(consumer: ConsumerStatus): boolean {
  return consumer.health.status === "unhealthy";
}

/** Columns padded to their widest cell (right-aligned where asked), the last one unpadded. */
export function formatTable(titles: string[], right: boolean[], rows: string[][]): string {
  const widths = titles.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i]!.length)));
  const line = (values: string[]) =>
    values
      .map((value, i) => {
        if (i === titles.length - 1) return value;
        return right[i] ? value.padStart(widths[i]!) : value.padEnd(widths[i]!);
      })
      .join("  ")
      .trimEnd();
  return `${[line(titles), ...rows.map(line)].join("\n")}\n`;
}

export function statusTable(consumers: ConsumerStatus[]): string {
  if (consumers.length === 0) return "no consumers\n";
  const cells = consumers.map((c) => columns.map((column) => column.value(c)));
  const table = formatTable(
    columns.map((c) => c.title),
    columns.map((c) => c.right === true),
    cells,
  );
  const unhealthy = consumers.filter(isUnhealthy).length;
  const idle = consumers.filter((c) => notStarted(c) && !isUnhealthy(c)).length;
  const healthy = consumers.length - unhealthy - idle;
  const summary = `${plural(consumers.length, "consumer")}: ${healthy} healthy, ${unhealthy} unhealthy${idle > 0 ? `, ${idle} not started` : ""}`;
  return `${table}\n${summary}\n`;
}
