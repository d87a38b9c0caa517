/**
 * A plan for people, like terraform's:
 *
 *   + create consumer "hubspot-to-app"
 *       table.name: "records"
 *   ~ update consumer "x": table.name: "records" → "records_v2"
 *   - delete target "old"
 *   Plan: 1 to create, 1 to update, 1 to delete.
 */
import type { FieldChange, Plan, PlannedAction } from "./plan.js";

const symbols = { create: "+", update: "~", delete: "-" } as const;

function value(v: unknown, secret?: boolean): string {
  if (secret) return String(v);
  if (v === null || v === undefined) return "(none)";
  return JSON.stringify(v);
}

function changeText(change: FieldChange): string {
  const from = change.secret ? "(secret)" : value(change.from);
  return `${change.field}: ${from} → ${value(change.to, change.secret)}`;
}

function actionLines(action: PlannedAction): string[] {
  const head = `${symbols[action.action]} ${action.action} ${action.kind} ${JSON.stringify(action.name)}`;
  const lines =
    action.action === "update"
      ? action.changes.map((c) => `${head}: ${changeText(c)}`)
      : [head, ...action.changes.map((c) => `    ${c.field}: ${value(c.to, c.secret)}`)];
  return [...lines, ...action.notes.map((note) => `    note: ${note}`)];
}

export function summaryLine(plan: Plan): string {
  const { create, update, delete: remove } = plan.summary;
  return `Plan: ${create} to create, ${update} to update, ${remove} to delete.`;
}

export function planText(plan: Plan): string {
  const lines = plan.actions.flatMap(actionLines);
  if (plan.unmanaged.length > 0) {
    if (lines.length > 0) lines.push("");
    for (const u of plan.unmanaged) {
      lines.push(
        `  unmanaged ${u.kind} ${JSON.stringify(u.name)}: not in the file, left alone (--prune deletes it)`,
      );
    }
  }
  if (plan.actions.length === 0) lines.push("No changes: the server matches the file.");
  if (lines.length > 0) lines.push("");
  lines.push(summaryLine(plan));
  return `${lines.join("\n")}\n`;
}
