/**
 * One consumer: health checks and notes (its warnings among them), last error, backfill progress, records
 * applied, the lag chart of the last hour since it started (with its alert threshold) and recent
 * transitions, refreshed every 2 s; pause, resume, retry now, rewrite the table and delete, with confirmation.
 */
import type { FastifyInstance } from "fastify";
import type { ServerDeps } from "../api/server-deps.js";
import { type ConsumerView, lagCountCap } from "../consumer/index.js";
import { listSyncs } from "../stream/index.js";
import { hxRedirect, idParam, sendHtml } from "./console-http.js";
import { consumerPanels } from "./consumer-panels.js";
import { consumerCollections, consumerViewsRoutes, viewsPanel } from "./consumer-views-panel.js";
import { html } from "./html.js";
import { chartWindowMs, lagChart } from "./lag-chart.js";
import { selectLagSamplesSinceStart } from "./lag-sample-queries.js";
import { page } from "./layout.js";
import { ago, count, healthBadge, seconds, stateBadge } from "./view-helpers.js";

function actions(c: ConsumerView) {
  const post = (action: string, label: string, confirm: string, cls = "secondary") =>
    html`<button class="${cls}" hx-post="/console/consumers/${c.id}/${action}" hx-target="#consumer-live" hx-swap="outerHTML" hx-sync="#consumer-live:replace" hx-confirm="${confirm}">${label}</button>`;
  return html`<div class="actions">
  ${c.state === "inactive" ? html`<a class="button" href="/console/consumers/${c.id}/setup">Verify and start</a>` : ""}
  ${c.state === "paused" ? post("resume", "Resume", `Resume “${c.name}”? It continues from where it stopped.`) : ""}
  ${c.state === "failing" || c.state === "waiting_for_target" ? post("retry", "Retry now", `Retry “${c.name}” now? It ${c.state === "failing" ? "tries its write again" : "tries to reach its target"} at once instead of after its backoff.`, "") : ""}
  ${c.state !== "paused" && c.state !== "inactive" ? post("pause", "Pause", `Pause “${c.name}”? It stops writing until you resume it; no lag alerts while paused.`) : ""}
  ${c.state !== "inactive" ? post("backfill", "Rewrite table", `Rewrite the table of “${c.name}” from the stream? Every record is written again while live changes keep flowing; rows that are not in the stream are deleted.`) : ""}
  ${post("delete", "Delete", `Delete consumer “${c.name}”? Its table and the rows in it stay in your database.`, "danger")}
</div>`;
}

async function live(deps: ServerDeps, id: string) {
  const now = new Date();
  const [c, events, samples, syncs] = await Promise.all([
    deps.consumers.get(id),
    deps.consumers.events(id, 8),
    selectLagSamplesSinceStart(deps.pool, id, new Date(now.getTime() - chartWindowMs)),
    listSyncs(deps.pool),
  ]);
  const target = await deps.targets.get(c.target_id);
  const threshold = c.lag_alert_seconds ?? deps.config.lagAlertSeconds;
  const panelContext = {
    targetName: target.name,
    syncNames: new Map(syncs.map((s) => [s.id, s.name])),
    lagThresholdSeconds: threshold,
  };
  const rewrite = c.backfill?.kind === "rewrite";
  const showBackfill = c.backfill && !(rewrite && c.backfill.finished_at);
  const backfill =
    c.backfill && showBackfill
      ? html`<section class="panel" data-backfill="${Math.round(c.backfill.progress * 100)}">
  <h2>${rewrite ? "Rewriting the table from the stream" : "Backfill"}</h2>
  ${rewrite ? html`<p>${c.backfill.reason ?? ""}; live changes keep flowing meanwhile.</p>` : ""}
  <progress max="${c.backfill.total}" value="${c.backfill.done}"></progress>
  <p class="muted">${count(c.backfill.done)} of ${count(c.backfill.total)} records (${Math.round(c.backfill.progress * 100)}%)</p>
</section>`
      : "";
  const view = html`<div id="consumer-live" hx-get="/console/consumers/${c.id}/live" hx-trigger="every 2s" hx-swap="outerHTML" hx-sync="this:drop">
<div class="page-head">
  <div><h1>${c.name}</h1>
    <p class="sub" id="consumer-status">${stateBadge(c.state)} ${healthBadge(c.health.status)} <span class="muted">· state changed ${ago(c.state_changed_at, now.getTime())}</span></p></div>
  ${actions(c)}
</div>
<div class="stats">
  <div class="stat"><div class="label">Records applied</div><div class="value" data-stat="upserted">${count(c.stats.upserted)}</div></div>
  <div class="stat"><div class="label">Deleted</div><div class="value">${count(c.stats.deleted)}</div></div>
  <div class="stat"><div class="label">Lag</div><div class="value" data-stat="lag">${count(c.lag.records)}${c.lag.records >= lagCountCap ? "+" : ""}</div><div class="muted">${c.lag.records ? `pending, oldest ${seconds(c.lag.seconds)}` : "caught up"} · alert after ${seconds(threshold)}</div></div>
  <div class="stat"><div class="label">Last applied</div><div class="value">${ago(c.stats.last_applied_at, now.getTime())}</div></div>
</div>
${backfill}
${consumerPanels(c, panelContext, events, html`<section class="panel"><h2>Lag, last hour</h2>${lagChart(samples, now, threshold)}</section>`)}
</div>`;
  return { view, name: c.name, typedViews: viewsPanel(c, consumerCollections(c, syncs)) };
}

export function consumerDetailPage(app: FastifyInstance, deps: ServerDeps): void {
  app.get("/console/consumers/:id", async (request, reply) => {
    const { view, name, typedViews } = await live(deps, idParam(request, "consumer"));
    return sendHtml(reply, page({ title: name, section: "consumers", body: html`${view}${typedViews}` }));
  });

  app.get("/console/consumers/:id/live", async (request, reply) =>
    sendHtml(reply, (await live(deps, idParam(request, "consumer"))).view),
  );

  for (const action of ["pause", "resume", "retry", "backfill"] as const) {
    app.post(`/console/consumers/:id/${action}`, async (request, reply) => {
      const id = idParam(request, "consumer");
      await deps.consumers[action](id);
      return sendHtml(reply, (await live(deps, id)).view);
    });
  }

  consumerViewsRoutes(app, deps);

  app.post("/console/consumers/:id/delete", async (request, reply) => {
    await deps.consumers.delete(idParam(request, "consumer"));
    return hxRedirect(reply, "/console/consumers");
  });
}
