/** Small pieces of markup and formatting shared by the pages. */
import type { ConsumerView } from "../consumer/index.js";
import { type Html, html } from "./html.js";

const stateLabels: Record<string, string> = {
  inactive: "not started",
  backfilling: "backfilling",
  live: "live",
  paused: "paused",
  waiting_for_target: "waiting for target",
  failing: "failing",
};

export function stateBadge(state: string): Html {
  return html`<span class="badge state-${state}" data-state="${state}">${stateLabels[state] ?? state}</span>`;
}

export function healthBadge(status: "healthy" | "unhealthy"): Html {
  return html`<span class="badge health-${status}" data-health="${status}">${status}</span>`;
}

export function count(n: number): string {
  return n.toLocaleString("en-US");
}

export function seconds(s: number): string {
  if (s < 1) return s === 0 ? "0 s" : "< 1 s";
  if (s < 120) return `${Math.round(s)} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

export function ago(iso: string | null, now = Date.now()): string {
  if (iso === null) return "never";
  return `${seconds(Math.max(0, (now - Date.parse(iso)) / 1000))} ago`;
}

/** A consumer's filter in words: a provider, or a sync by its name (its id only when it no longer exists). */
export function filterLabel(filter: ConsumerView["filter"], syncNames: Map<string, string>) {
  if ("provider" in filter) return html`all <strong>${filter.provider}</strong> syncs`;
  const name = syncNames.get(filter.sync_id);
  return name === undefined
    ? html`sync <code>${filter.sync_id}</code> <span class="muted">(no longer exists)</span>`
    : html`sync <a href="/console/syncs#sync-${filter.sync_id}"><strong>${name}</strong></a>`;
}

/** A SQL statement to copy: the text in a <pre>, a button that copies it. */
export function sqlBlock(id: string, sql: string, label = "Copy"): Html {
  return html`<div class="sql">
  <pre id="${id}"><code>${sql}</code></pre>
  <button type="button" class="secondary small copy" data-copy="${id}">${label}</button>
</div>`;
}

/** The error of one form field, placed right under it. */
export function fieldError(errors: Record<string, string[]>, field: string): Html {
  const messages = errors[field];
  if (!messages?.length) return html``;
  return html`<p class="field-error" id="${errorId(field)}">${messages.join("; ")}</p>`;
}

export function errorId(field: string): string {
  return `error-${field.replace(/[^A-Za-z0-9_-]/g, "-")}`;
}

/** Attributes of an input bound to `field`: name, id, and the error it is described by when invalid. */
export function fieldAttrs(errors: Record<string, string[]>, field: string): Html {
  const invalid = (errors[field]?.length ?? 0) > 0;
  const id = `field-${field.replace(/[^A-Za-z0-9_-]/g, "-")}`;
  return invalid
    ? html`name="${field}" id="${id}" aria-invalid="true" aria-describedby="${errorId(field)}"`
    : html`name="${field}" id="${id}"`;
}

export function fieldId(field: string): string {
  return `field-${field.replace(/[^A-Za-z0-9_-]/g, "-")}`;
}

const steps = ["Select target", "Filter", "Table", "Create table", "Verify and start"];

/** Where the user is in the add-consumer flow: steps `from`-`to` (of 1-5) are on this page. */
export function flowSteps(from: number, to = from): Html {
  const state = (step: number) => (step < from ? "done" : step <= to ? "current" : "");
  return html`<ol class="steps">${steps.map((label, i) => html`<li class="${state(i + 1)}">${label}</li>`)}</ol>`;
}
