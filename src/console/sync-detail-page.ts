/**
 * One sync. A sync Sequin pulls shows its source: state and health, each collection's records, backfill
 * progress and last poll, the last error with when the trouble began, requests made and throttled, the
 * worker running it; Pause, Resume and Re-read everything (with confirmation); refreshed every 2 s like the
 * consumer page. A sync whose records are pushed shows its collections and their record counts.
 */
import type { FastifyInstance } from "fastify";
import { syncSourceAction } from "../api/routes/syncs.js";
import type { ServerDeps } from "../api/server-deps.js";
import { type SourceView, sourceFactories } from "../sources/index.js";
import { getSync, recordCounts, type Sync } from "../stream/index.js";
import { selectLiveWorkers } from "../work/index.js";
import { idParam, sendHtml } from "./console-http.js";
import { type Html, html } from "./html.js";
import { alert, page } from "./layout.js";
import { ago, count, healthBadge, stateBadge } from "./view-helpers.js";

const checkLabels: Record<string, string> = {
  credential: "Credential accepted",
  provider: "Provider answering",
  records: "Records accepted",
  behind: "Changes polled",
};

function actions(sync: Sync, source: SourceView) {
  const post = (action: string, label: string, confirm: string, cls = "secondary") =>
    html`<button class="${cls}" hx-post="/console/syncs/${sync.id}/${action}" hx-target="#sync-live" hx-swap="outerHTML" hx-sync="#sync-live:replace" hx-confirm="${confirm}">${label}</button>`;
  const paused = source.state === "paused";
  return html`<div class="actions">
  ${
    paused
      ? post("resume", "Resume", `Resume “${sync.name}”? It continues from where it stopped.`, "")
      : post(
          "pause",
          "Pause",
          `Pause “${sync.name}”? Sequin stops reading ${source.provider} until you resume it; its records stay.`,
        )
  }
  ${
    paused
      ? ""
      : post(
          "backfill",
          "Re-read everything",
          `Read everything of “${sync.name}” from ${source.provider} again? Changes keep flowing meanwhile; at the end, records that no longer exist in ${source.provider} are deleted from the stream.`,
        )
  }
</div>`;
}

function collectionsTable(source: SourceView, now: number) {
  const rows = source.collections.map(
    (c) => html`<tr data-collection="${c.collection_id}" data-state="${c.state}">
  <td><code>${c.collection_id}</code></td>
  <td data-label="State">${stateBadge(c.state)}</td>
  <td class="num" data-label="Records" data-cell="records">${count(c.records)}</td>
  <td data-label="Backfill" data-cell="backfill">${
    c.backfill.done ? `done, ${count(c.backfill.fetched)} read` : `${count(c.backfill.fetched)} read so far`
  }</td>
  <td data-label="Last polled" data-cell="last-polled">${c.last_polled_at ? ago(c.last_polled_at, now) : "not yet"}</td>
</tr>`,
  );
  return html`<section class="panel"><h2>Collections</h2><div class="table-wrap"><table class="stack">
  <thead><tr><th>Collection</th><th>State</th><th class="num">Records</th><th>Backfill</th><th>Last polled</th></tr></thead>
  <tbody>${rows}</tbody>
</table></div></section>`;
}

function errorPanel(source: SourceView, now: number) {
  const e = source.last_error;
  const health = source.health;
  return html`<div class="grid">
<section class="panel" data-health-panel="${health.status}">
  <h2>Health</h2>
  ${
    health.checks.length
      ? html`<ul class="checks">${health.checks.map(
          (check) => html`<li data-check="${check.name}" data-check-status="${check.status}">
    <span class="dot ${check.status}"></span>
    <div><strong>${checkLabels[check.name] ?? check.name}</strong>${check.error ? html`<div class="error">${check.error}</div>` : ""}</div></li>`,
        )}</ul>`
      : html`<p>${healthBadge(health.status)}</p>`
  }
  ${health.notes.length ? html`<h3>Notes</h3><ul class="notes">${health.notes.map((n) => html`<li>${n}</li>`)}</ul>` : ""}
</section>
<section class="panel" data-last-error="${e ? "yes" : "no"}">
  <h2>Last error</h2>
  ${
    e
      ? html`<p>${e.message}</p>
  <dl class="facts">
    ${source.failing_since ? html`<dt>Failing since</dt><dd data-fact="failing-since">${source.failing_since}${(e.attempts ?? 1) > 1 ? `, ${e.attempts} attempts` : ""} (${ago(source.failing_since, now)})</dd>` : ""}
    <dt>When</dt><dd>${ago(e.at, now)} (${e.at})</dd>
    <dt>Kind</dt><dd><code>${e.kind}</code></dd>
  </dl>`
      : html`<p class="muted">None.</p>`
  }
</section>
</div>`;
}

async function workerLabel(deps: ServerDeps, workerId: string | null): Promise<Html> {
  if (workerId === null) return html`<span class="muted">none right now</span>`;
  const worker = (await selectLiveWorkers(deps.pool)).find((w) => w.id === workerId);
  return worker
    ? html`${worker.hostname} <span class="muted">pid ${worker.pid} · <code>${workerId}</code></span>`
    : html`<code>${workerId}</code>`;
}

/** The provider's settings as given, each under its form label; one not given says its default. */
function settingFacts(source: SourceView): Html[] {
  const fields = sourceFactories.get(source.provider)?.kind.settingFields ?? [];
  return fields.map((f) => {
    const value = source.settings[f.field];
    const shown =
      value === undefined
        ? html`<span class="muted">default${f.placeholder && f.type === "number" ? ` (${f.placeholder})` : ""}</span>`
        : Array.isArray(value)
          ? html`${value.map((v, i) => html`${i ? ", " : ""}<code>${String(v)}</code>`)}`
          : html`${String(value)}`;
    return html`<dt>${f.label}</dt><dd data-setting="${f.field}">${shown}</dd>`;
  });
}

async function sourcedView(deps: ServerDeps, sync: Sync, source: SourceView) {
  const now = Date.now();
  const health = source.health;
  return html`<div id="sync-live" hx-get="/console/syncs/${sync.id}/live" hx-trigger="every 2s" hx-swap="outerHTML" hx-sync="this:drop">
<div class="page-head">
  <div><h1>${sync.name}</h1>
    <p class="sub" id="sync-status">${stateBadge(source.state)} ${healthBadge(health.status)} <span class="muted">· pulled from ${source.provider} at <code>${source.base_url}</code></span></p></div>
  ${actions(sync, source)}
</div>
${source.rebackfill ? alert("info", html`Reading everything again (${source.rebackfill}); changes keep flowing meanwhile. At the end, records that no longer exist are deleted.`) : ""}
<div class="stats">
  <div class="stat"><div class="label">Records</div><div class="value" data-stat="records">${count(source.collections.reduce((n, c) => n + c.records, 0))}</div></div>
  <div class="stat"><div class="label">Requests</div><div class="value" data-stat="requests">${count(source.requests)}</div><div class="muted">at most ${source.max_requests_per_second} per second</div></div>
  <div class="stat"><div class="label">Throttled</div><div class="value" data-stat="throttled">${count(source.throttled)}</div><div class="muted">answered 429 by ${source.provider}</div></div>
  <div class="stat"><div class="label">Worker</div><div class="value small" data-stat="worker">${await workerLabel(deps, source.worker_id)}</div><div class="muted">polls every ${source.poll_interval_seconds} s</div></div>
</div>
${collectionsTable(source, now)}
${errorPanel(source, now)}
<section class="panel"><h2>Definition</h2><dl class="facts">
  <dt>Provider</dt><dd>${source.provider}</dd>
  <dt>Base URL</dt><dd><code>${source.base_url}</code></dd>
  <dt>Rate</dt><dd>at most ${source.max_requests_per_second} requests per second</dd>
  <dt>Poll interval</dt><dd>${source.poll_interval_seconds} s</dd>
  ${settingFacts(source)}
  <dt>Id</dt><dd><code>${sync.id}</code></dd>
</dl></section>
</div>`;
}

async function pushedView(deps: ServerDeps, sync: Sync) {
  const counts = await recordCounts(deps.pool, sync.id);
  const rows = sync.collections.map(
    (c) =>
      html`<tr data-collection="${c}"><td><code>${c}</code></td><td class="num" data-cell="records">${count(counts.get(c)?.live ?? 0)}</td></tr>`,
  );
  return html`<div id="sync-live" hx-get="/console/syncs/${sync.id}/live" hx-trigger="every 2s" hx-swap="outerHTML" hx-sync="this:drop">
<div class="page-head"><div><h1>${sync.name}</h1>
  <p class="sub">${sync.provider} · records pushed through <code>POST /v1/syncs/${sync.id}/records</code></p></div></div>
<section class="panel"><h2>Collections</h2>${
    rows.length
      ? html`<table><thead><tr><th>Collection</th><th class="num">Records</th></tr></thead><tbody>${rows}</tbody></table>`
      : html`<p class="muted">No collection yet: they appear as records arrive.</p>`
  }</section>
</div>`;
}

async function live(deps: ServerDeps, id: string) {
  const sync = await getSync(deps.pool, id);
  const source = (await deps.sources.views([id])).get(id);
  const view = source ? await sourcedView(deps, sync, source) : await pushedView(deps, sync);
  return { view, name: sync.name };
}

export function syncDetailPage(app: FastifyInstance, deps: ServerDeps): void {
  app.get("/console/syncs/:id", async (request, reply) => {
    const { view, name } = await live(deps, idParam(request, "sync"));
    const body = html`<p class="muted"><a href="/console/syncs">← Syncs</a></p>${view}`;
    return sendHtml(reply, page({ title: name, section: "syncs", body }));
  });

  app.get("/console/syncs/:id/live", async (request, reply) =>
    sendHtml(reply, (await live(deps, idParam(request, "sync"))).view),
  );

  for (const action of ["pause", "resume", "backfill"] as const) {
    app.post(`/console/syncs/:id/${action}`, async (request, reply) => {
      const id = idParam(request, "sync");
      await syncSourceAction(deps, id, action);
      return sendHtml(reply, (await live(deps, id)).view);
    });
  }
}
