/** Targets: the registered databases with their health and the consumers using them; test, edit, delete. */
import type { FastifyInstance } from "fastify";
import type { ServerDeps } from "../api/server-deps.js";
import type { ConsumerView } from "../consumer/index.js";
import type { TargetView } from "../targets/index.js";
import { hxRedirect, idParam, sendHtml } from "./console-http.js";
import { html } from "./html.js";
import { alert, page } from "./layout.js";
import { healthBadge } from "./view-helpers.js";

function targetRow(t: TargetView, users: ConsumerView[]) {
  const c = t.connection;
  return html`<tr id="target-${t.id}" data-target="${t.name}">
  <td><strong>${t.name}</strong><div class="muted hide-small"><code>${t.id}</code></div>${
    users.length
      ? html`<div class="muted">used by ${users.map((u, i) => html`${i ? ", " : ""}<a href="/console/consumers/${u.id}">${u.name}</a>`)}</div>`
      : html`<div class="muted">no consumer yet</div>`
  }</td>
  <td data-label="Connection"><code>${c.username}@${c.host}:${c.port}/${c.database}</code>${
    t.ssh_tunnel
      ? html`<div class="muted">through ${t.ssh_tunnel.username}@${t.ssh_tunnel.host}:${t.ssh_tunnel.port}</div>`
      : ""
  }</td>
  <td class="hide-small" data-label="TLS">${c.ssl}</td>
  <td data-label="Health">${healthBadge(t.health.status)}${t.health.notes.map((n) => html`<div class="muted">${n}</div>`)}</td>
  <td>
    <div class="actions">
      <button class="secondary small" hx-post="/console/targets/${t.id}/test" hx-target="#test-${t.id}" hx-disabled-elt="this">Test connection</button>
      <a class="button secondary small" href="/console/targets/${t.id}/edit">Edit</a>
      <button class="danger small" hx-post="/console/targets/${t.id}/delete"
        hx-confirm="Delete target “${t.name}”? Nothing in the database itself changes.">Delete</button>
    </div>
    <div id="test-${t.id}" aria-live="polite"></div>
  </td>
</tr>`;
}

export function targetsPage(app: FastifyInstance, { targets, consumers }: ServerDeps): void {
  app.get<{ Querystring: { added?: string; saved?: string } }>("/console/targets", async (request, reply) => {
    const [list, consumerList] = await Promise.all([targets.list(), consumers.list()]);
    const added = list.find((t) => t.id === request.query.added);
    const saved = list.find((t) => t.id === request.query.saved);
    const usersOf = (t: TargetView) => consumerList.filter((c) => c.target_id === t.id);
    const rows = list.length
      ? html`<div class="table-wrap"><table class="stack">
  <thead><tr><th>Name</th><th>Connection</th><th class="hide-small">TLS</th><th>Health</th><th></th></tr></thead>
  <tbody>${list.map((t) => targetRow(t, usersOf(t)))}</tbody>
</table></div>`
      : html`<div class="panel empty"><p>No target yet. A target is a Postgres database consumers write to.</p>
  <a class="button" href="/console/targets/new">Add target</a></div>`;
    const body = html`<div class="page-head">
  <div><h1>Targets</h1><p class="sub">Postgres databases that consumers write to.</p></div>
  <a class="button" href="/console/targets/new">Add target</a>
</div>
${
  added
    ? alert(
        "ok",
        html`Target <strong>${added.name}</strong> is connected and saved. Next: <a href="/console/consumers/new?target_id=${added.id}">add a consumer</a>.`,
      )
    : ""
}
${saved ? alert("ok", html`Target <strong>${saved.name}</strong> is connected and saved.`) : ""}
${rows}`;
    return sendHtml(reply, page({ title: "Targets", section: "targets", body }));
  });

  app.post("/console/targets/:id/test", async (request, reply) => {
    const result = await targets.test(idParam(request, "target"));
    return sendHtml(
      reply,
      result.ok
        ? html`<p class="field-ok" data-test="ok">Connected in ${Math.round(result.latency_ms)} ms.</p>`
        : html`<p class="field-error" data-test="failed">Cannot connect: ${result.error}</p>`,
    );
  });

  app.post("/console/targets/:id/delete", async (request, reply) => {
    await targets.delete(idParam(request, "target"));
    return hxRedirect(reply, "/console/targets");
  });
}
