/** What `sequin status` prints: one line per consumer, and the first health note of unhealthy ones. */

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
  { title: "STATE", value: (c) => c.state },
  { title: "HEALTH", value: (c) => c.health.status },
  { title: "LAG RECORDS", value: (c) => String(c.lag.records), right: true },
  { title: "LAG SECONDS", value: (c) => c.lag.seconds.toFixed(1), right: true },
  { title: "UPSERTED", value: (c) => String(c.stats.upserted), right: true },
  { title: "DELETED", value: (c) => String(c.stats.deleted), right: true },
  // last, unpadded: notes are long
  { title: "NOTE", value: (c) => (c.health.status === "unhealthy" ? (c.health.notes[0] ?? "") : "") },
];

export function isUnhealthy(consumer: ConsumerStatus): boolean {
  return consumer.health.status === "unhealthy";
}

export function statusTable(consumers: ConsumerStatus[]): string {
  if (consumers.length === 0) return "no consumers\n";
  const cells = consumers.map((c) => columns.map((column) => column.value(c)));
  const widths = columns.map((column, i) =>
    Math.max(column.title.length, ...cells.map((row) => row[i]!.length)),
  );
  const line = (values: string[]) =>
    values
      .map((value, i) => {
        if (i === columns.length - 1) return value;
        return columns[i]!.right ? value.padStart(widths[i]!) : value.padEnd(widths[i]!);
      })
      .join("  ")
      .trimEnd();
  const unhealthy = consumers.filter(isUnhealthy).length;
  const summary = `${consumers.length} consumer(s): ${consumers.length - unhealthy} healthy, ${unhealthy} unhealthy`;
  return `${[line(columns.map((c) => c.title)), ...cells.map(line)].join("\n")}\n\n${summary}\n`;
}
