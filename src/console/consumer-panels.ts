/** The consumer page's panels: health checks and notes, last error, definition, recent transitions. */
import type { ConsumerView } from "../consumer/index.js";
import { type Html, html } from "./html.js";
import { ago, filterLabel, seconds, stateBadge } from "./view-helpers.js";

interface Transition {
  at: Date;
  from_state: string;
  to_state: string;
  note: string | null;
}

const checkLabels: Record<string, string> = {
  target_reachable: "Target reachable",
  writes_succeeding: "Writes succeeding",
  lag_within_threshold: "Lag within threshold",
};

function healthPanel(c: ConsumerView) {
  return html`<section class="panel" data-health-panel="${c.health.status}">
  <h2>Health</h2>
  <ul class="checks">${c.health.checks.map(
    (check) => html`<li data-check="${check.name}" data-check-status="${check.status}">
    <span class="dot ${check.status}"></span>
    <div><strong>${checkLabels[check.name] ?? check.name}</strong>${
      check.error ? html`<div class="error">${check.error}</div>` : ""
    }</div></li>`,
  )}</ul>
  ${c.health.notes.length ? html`<h3>Notes</h3><ul class="notes">${c.health.notes.map((n) => html`<li>${n}</li>`)}</ul>` : ""}
</section>`;
}

/** "Failing since …, 5 retries": when the incident began; retries are counted, never re-dated. */
function incident(c: ConsumerView) {
  const label =
    c.state === "failing" ? "Failing since" : c.state === "waiting_for_target" ? "Waiting since" : null;
  if (!label) return "";
  const retries = (c.last_error?.attempts ?? 1) - 1;
  const counted = retries > 0 ? `, ${retries} ${retries === 1 ? "retry" : "retries"}` : "";
  return html`<dt>${label}</dt><dd data-fact="incident">${c.state_changed_at}${counted} (${ago(c.state_changed_at)})</dd>`;
}

function lastErrorPanel(c: ConsumerView) {
  const e = c.last_error;
  return html`<section class="panel" data-last-error="${e ? "yes" : "no"}">
  <h2>Last error</h2>
  ${
    e
      ? html`<p>${e.message}</p>
  <dl class="facts">
    ${incident(c)}
    <dt>When</dt><dd>${ago(e.at)} (${e.at})</dd>
    ${e.sqlstate ? html`<dt>SQLSTATE</dt><dd><code>${e.sqlstate}</code></dd>` : ""}
    ${e.record ? html`<dt>Record</dt><dd><code>${e.record.collection_id}/${e.record.upstream_id}</code></dd>` : ""}
  </dl>`
      : html`<p class="muted">None.</p>`
  }
</section>`;
}

/** What the panels show besides the consumer itself. */
export interface PanelContext {
  targetName: string;
  syncNames: Map<string, string>;
  /** The lag past which the consumer is unhealthy: its own, or the service's default. */
  lagThresholdSeconds: number;
}

function definitionPanel(c: ConsumerView, ctx: PanelContext) {
  const own = c.lag_alert_seconds !== null;
  return html`<section class="panel">
  <h2>Definition</h2>
  <dl class="facts">
    <dt>Target</dt><dd><a href="/console/targets">${ctx.targetName}</a></dd>
    <dt>Filter</dt><dd data-fact="filter">${filterLabel(c.filter, ctx.syncNames)}</dd>
    <dt>Table</dt><dd><code>${c.table.schema}.${c.table.name}</code> · <a href="/console/consumers/${c.id}/setup">create statement and verification</a></dd>
    <dt>Lag alert</dt><dd data-fact="lag-threshold">when the oldest pending change is older than ${seconds(ctx.lagThresholdSeconds)} (${own ? "this consumer's setting" : "the service's default, SEQUIN_LAG_ALERT_SECONDS"})</dd>
    <dt>Id</dt><dd><code>${c.id}</code></dd>
  </dl>
</section>`;
}

function eventsPanel(events: Transition[]) {
  return html`<section class="panel">
  <h2>Recent events</h2>
  ${
    events.length
      ? html`<ul class="checks">${events.map(
          (e) =>
            html`<li>${stateBadge(e.to_state)} <span class="muted">${ago(e.at.toISOString())}${e.note ? ` · ${e.note}` : ""}</span></li>`,
        )}</ul>`
      : html`<p class="muted">None yet.</p>`
  }
</section>`;
}

/** Health first (what needs attention), then the lag chart, then what the consumer is. */
export function consumerPanels(c: ConsumerView, ctx: PanelContext, events: Transition[], chart: Html) {
  return html`<div class="grid">${healthPanel(c)}${lastErrorPanel(c)}</div>
${chart}
<div class="grid">${definitionPanel(c, ctx)}${eventsPanel(events)}</div>`;
}
