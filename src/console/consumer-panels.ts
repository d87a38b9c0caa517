/** The consumer page's panels: health checks and notes, last error, definition, recent transitions. */
import type { ConsumerView } from "../consumer/index.js";
import { type Html, html } from "./html.js";
import { ago, stateBadge } from "./view-helpers.js";

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

function definitionPanel(c: ConsumerView, targetName: string) {
  const filter = "provider" in c.filter ? `provider ${c.filter.provider}` : `sync ${c.filter.sync_id}`;
  return html`<section class="panel">
  <h2>Definition</h2>
  <dl class="facts">
    <dt>Target</dt><dd><a href="/console/targets">${targetName}</a></dd>
    <dt>Filter</dt><dd>${filter}</dd>
    <dt>Table</dt><dd><code>${c.table.schema}.${c.table.name}</code> · <a href="/console/consumers/${c.id}/setup">create statement and verification</a></dd>
    <dt>Lag alert</dt><dd>${c.lag_alert_seconds ? `after ${c.lag_alert_seconds} s` : "service default"}</dd>
    <dt>Id</dt><dd><code>${c.id}</code></dd>
  </dl>
</section>`;
}

function eventsPanel(events: Transition[]) {
  return html`<section class="panel">
  <h2>Recent transitions</h2>
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
export function consumerPanels(c: ConsumerView, targetName: string, events: Transition[], chart: Html) {
  return html`<div class="grid">${healthPanel(c)}${lastErrorPanel(c)}</div>
${chart}
<div class="grid">${definitionPanel(c, targetName)}${eventsPanel(events)}</div>`;
}
