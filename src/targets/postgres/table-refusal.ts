/**
 * Which of a table's warnings explain a write the target refused: the constraint, unique index or foreign
 * key that the database names in its error (in double quotes, whatever the server's language), or, for an
 * error raised in PL/pgSQL (SQLSTATE P0001), the table's triggers. Those warnings become problems that name
 * the record refused, each with the statement that removes the cause.
 */
import { quoteIdent, type TableName } from "./identifiers.js";
import { finding, type TableFinding } from "./table-findings.js";

/** The target's refusal of one write, as the consumer recorded it. */
export interface Refusal {
  message: string;
  sqlstate?: string;
  record?: { collection_id: string; upstream_id: string };
}

export interface ExplainedRefusal<Finding extends TableFinding<string>> {
  problems: (Finding | TableFinding<string>)[];
  warnings: Finding[];
  /** What refuses the write, e.g. `constraint "email_unique"`; empty when the table shows no cause. */
  causes: string[];
}

const labels: Record<string, string> = {
  constraint: "constraint",
  foreign_key: "foreign key",
  trigger: "trigger",
};

export function explainRefusal<Finding extends TableFinding<string>>(
  table: TableName,
  findings: { problems: Finding[]; warnings: Finding[] },
  refusal: Refusal,
): ExplainedRefusal<Finding> {
  const named = findings.warnings.filter(
    (w) => w.name !== undefined && refusal.message.includes(`"${w.name}"`),
  );
  const raised =
    named.length === 0 && refusal.sqlstate === "P0001"
      ? findings.warnings.filter((w) => w.kind === "trigger" && w.name !== undefined)
      : [];
  const record = refusal.record
    ? `record ${refusal.record.collection_id}/${refusal.record.upstream_id}`
    : "a write";
  const code = refusal.sqlstate ? ` (SQLSTATE ${refusal.sqlstate})` : "";
  const label = (w: Finding) => `${labels[w.kind] ?? w.kind} ${quoteIdent(w.name!)}`;
  const problem = (w: Finding, what: string) =>
    finding(table, w.kind, what, { ...(w.fix_sql ? { fix_sql: w.fix_sql } : {}), name: w.name! });
  const causes = [...named, ...raised];
  return {
    problems: [
      ...findings.problems,
      ...named.map((w) => problem(w, `${label(w)} refuses ${record}${code}, so the consumer is failing`)),
      ...raised.map((w) =>
        problem(w, `${label(w)} may be what raises the error that refuses ${record}${code}`),
      ),
    ],
    warnings: findings.warnings.filter((w) => !causes.includes(w)),
    causes: causes.map(label),
  };
}
