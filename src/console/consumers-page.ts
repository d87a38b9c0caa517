/** Consumers at a glance: state, health and lag of each, refreshed every 2 s. */
import type { FastifyInstance } from "fastify";
import type { ServerDeps } from "../api/server-deps.js";
import { type ConsumerView, lagCountCap } from "../consumer/index.js";
import { listSyncs } from "../stream/index.js";
import { sendHtml } from "./console-http.js";
import { html } from "./html.js";
import { page } from "./layout.js";
import { count, filterLabel, healthBadge, seconds, stateBadge } from "./view-helpers.js";

const warningLabels: Record<ConsumerView["warnings"][number]["kind"], string> = {
  no_matching_sync: "no sync matches its filter yet",
  shared_table: "another consumer writes the same table",
};

function consumerRow(c: ConsumerView, syncNames: Map<string, string>, targetNames: Map<string, string>) {
  return html`<tr data-consumer="${c.name}">
  <td><a href="/console/consumers/${c.id}"><strong>${c.name}</strong></a>
    <div class="muted">${filterLabel(c.filter, syncNames)} → <code>${c.table.schema}.${c.table.name}</code></div>${c.warnings.map(
      (w) => html`<div class="warning" data-warning="${w.kind}">${warningLabels[w.kind]}</div>`,
    )}</td>
  <td class="hide-small" data-label="Target">${targetNames.get(c.target_id) ?? c.target_id}</td>
  <td data-label="State">${stateBadge(c.state)}</td>
  <td data-label="Health">${healthBadge(c.health.status)}</td>
  <td class="num" data-label="Lag">${c.lag.records ? html`${count(c.lag.records)}${c.lag.records >= lagCountCap ? "+" : ""} <span class="muted">· ${seconds(c.lag.seconds)}</span>` : html`<span class="muted">caught up</span>`}</td>
  <td class="num hide-small" data-label="Records applied">${count(c.stats.upserted)}</td>
</tr>`;
}

async function rows({ consumers, targets, pool }: ServerDeps) {
  const [list, targetList, syncs] = await Promise.all([consumers.list(), targets.list(), listSyncs(pool)]);
  const syncNames = new Map(syncs.map((s) => [s.id, s.name]));
  const targetNames = new Map(targetList.map((t) => [t.id, t.name]));
  if (list.length === 0) {
    return html`<tr><td colspan="6" class="empty">No consumer yet. <a href="/console/consumers/new">Add one</a> to mirror a provider or a sync into a table.</td></tr>`;
  }
  return html`${list.map((c) => consumerRow(c, syncNames, targetNames))}`;
}

export function consumersPage(app: FastifyInstance, deps: ServerDeps): void {
  app.get("/console/consumers", async (_request, reply) => {
    const body = html`<div class="page-head">
  <div><h1>Consumers</h1><p class="sub">Each mirrors a provider or a sync of your record streams into one table.</p></div>
  <a class="button" href="/console/consumers/new">Add consumer</a>
</div>
<div class="table-wrap"><table class="stack">
  <thead><tr><th>Consumer</th><th class="hide-small">Target</th><th>State</th><th>Health</th><th class="num">Lag</th><th class="num hide-small">Records applied</th></tr></thead>
  <tbody id="consumer-rows" hx-get="/console/consumers/rows" hx-trigger="every 2s" hx-swap="innerHTML">${await rows(deps)}</tbody>
</table></div>`;
    return sendHtml(reply, page({ title: "Consumers", section: "consumers", body }));
  });

  app.get("/console/consumers/rows", async (_request, reply) => sendHtml(reply, await rows(deps)));
}
