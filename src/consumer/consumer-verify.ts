/**
 * What verify answers about a consumer: the table's findings read in the light of the consumer's state.
 * An inactive consumer hears whether it is ready to start, a running one whether its table matches; a
 * failing one hears first why the target refuses its write and the statement that fixes it (the user's
 * constraint, index or trigger that refuses it is a problem then, not a warning), never that it is ready.
 */
import { explainRefusal } from "../targets/postgres/index.js";
import type { ConsumerView, VerifyResult } from "./consumer-schemas.js";

type Finding = VerifyResult["problems"][number];

/** What comparing the table found (TableVerification, with any warning of the consumer's own). */
export interface TableFindings {
  ok: boolean;
  problems: Finding[];
  warnings: Finding[];
}

export type VerifiedConsumer = Pick<ConsumerView, "state" | "table" | "state_changed_at" | "last_error">;

type Failure = NonNullable<VerifyResult["failure"]>;

export function verifyAnswer(
  consumer: VerifiedConsumer,
  table: Pick<TableFindings, "problems" | "warnings">,
): VerifyResult {
  const failure = failureOf(consumer);
  let { problems, warnings } = table;
  let causes: string[] = [];
  if (consumer.state === "failing" && failure) {
    const explained = explainRefusal(consumer.table, { problems, warnings }, failure);
    ({ problems, warnings, causes } = explained);
  }
  return {
    ok: problems.length === 0 && consumer.state !== "failing",
    problems,
    warnings,
    state: consumer.state,
    summary: summaryOf(consumer, problems, causes, failure),
    ...(failure ? { failure } : {}),
  };
}

function failureOf(c: VerifiedConsumer): Failure | undefined {
  if (c.state !== "failing" && c.state !== "waiting_for_target") return undefined;
  const e = c.last_error;
  const fallback = c.state === "failing" ? "the target refuses a write" : "the target cannot be reached";
  return {
    message: e?.message ?? fallback,
    ...(e?.sqlstate ? { sqlstate: e.sqlstate } : {}),
    ...(e?.record ? { record: e.record } : {}),
    since: c.state_changed_at,
    retries: Math.max(0, (e?.attempts ?? 1) - 1),
  };
}

function counted(n: number, noun: string): string {
  return `${n} ${n === 1 ? noun : `${noun}s`}`;
}

const matches = "The table matches what Sequin writes";

function summaryOf(
  c: VerifiedConsumer,
  problems: Finding[],
  causes: string[],
  failure: Failure | undefined,
): string {
  const n = problems.length;
  switch (c.state) {
    case "inactive":
      return n === 0 ? `${matches}: ready to start.` : `${counted(n, "problem")} to fix before starting.`;
    case "paused":
      return n === 0
        ? `${matches}; the consumer is paused: resume it to continue.`
        : `${counted(n, "problem")} to fix before resuming.`;
    case "backfilling":
    case "live":
      return n === 0
        ? `${matches}; the consumer is ${c.state}.`
        : `${counted(n, "problem")} to fix: until then the target may refuse the consumer's writes.`;
    case "failing":
      return failingSummary(problems, causes, failure!);
    case "waiting_for_target":
      return waitingSummary(n, failure!);
    default: {
      const unknown: never = c.state;
      return unknown;
    }
  }
}

function since(failure: Failure): string {
  const r = failure.retries;
  return `since ${failure.since}${r > 0 ? `, ${r} ${r === 1 ? "retry" : "retries"}` : ""}`;
}

/** `Fix: <statement>` when one statement on one line does it, else a pointer to the problems listed. */
function fixOf(problems: Finding[]): string {
  const only = problems.length === 1 ? problems[0]!.fix_sql : undefined;
  if (only && !only.includes("\n")) return `Fix: ${only}`;
  return problems.length === 1 ? "Fix the problem below;" : `Fix the ${problems.length} problems below;`;
}

function failingSummary(problems: Finding[], causes: string[], failure: Failure): string {
  const head = `The consumer is failing ${since(failure)}`;
  if (causes.length > 0) {
    const record = failure.record
      ? `record ${failure.record.collection_id}/${failure.record.upstream_id}`
      : "a write";
    const code = failure.sqlstate ? ` with SQLSTATE ${failure.sqlstate}` : "";
    return `${head}: the target refuses ${record}${code} (${causes.join(", ")}). ${fixOf(problems)} the consumer retries by itself.`;
  }
  if (problems.length > 0) {
    return `${head}: ${failure.message}. ${fixOf(problems)} the consumer retries by itself.`;
  }
  return (
    `${head}: ${failure.message}. Nothing in the table's definition explains it: fix what the error names; ` +
    "the consumer retries by itself."
  );
}

function waitingSummary(n: number, failure: Failure): string {
  const fix = n > 0 ? ` Before it can write, fix ${counted(n, "problem")} below.` : "";
  return (
    `The consumer is waiting for its target ${since(failure)}: ${failure.message}. Verify reached the target ` +
    `just now, so the consumer resumes by itself at its next try.${fix}`
  );
}
