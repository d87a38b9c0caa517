/**
 * Syncs: each with its collections and their record counts; removing a collection or a sync stops
 * forwarding it, and the page says plainly that rows already in targets stay, with the statements that
 * delete them from each consumer's table.
 */
import type { FastifyInstance } from "fastify";
import type { ServerDeps } from "../api/server-deps.js";
import type { ConsumerView } from "../consumer/index.js";
import {
  deleteSync,
  getSync,
  listSyncs,
  recordCounts,
  removeCollection,
  type Sync,
} from "../stream/index.js";
import { qualifiedName } from "../targets/postgres/index.js";
import { idParam, sendHtml } from "./console-http.js";
import { type Html, html } from "./html.js";
import { alert, page } from "./layout.js";
import { count, healthBadge, sqlBlock, stateBadge } from "./view-helpers.js";

/** A SQL string literal for statements the user copies (standard_conforming_strings on). */
function sqlText(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

function receiving(sync: Sync, consumers: ConsumerView[]) {
  return consumers.filter((c) =>
    "provider" in c.filter ? c.filter.provider === sync.provider : c.filter.sync_id === sync.id,
  );
}

function rowsStay(sync: Sync, consumers: ConsumerView[], collection?: string): Html {
  const tables = [...new Set(receiving(sync, consumers).map((c) => qualifiedName(c.table)))];
  const where = `sync_id = ${sqlText(sync.id)}${collection === undefined ? "" : ` and collection_id = ${sqlText(collection)}`}`;
  const sql = tables.map((t) => `delete from ${t} where ${where};`).join("\n");
  return html`<p>Rows already written to your targets stay: Sequin never deletes them.${
    tables.length ? " To delete them, run:" : ""
  }</p>${tables.length ? sqlBlock(`cleanup-${sync.id}`, sql) : ""}`;
}

async function syncCard(deps: ServerDeps, sync: Sync, consumers: ConsumerView[], notice?: Html) {
  const source = (await deps.sources.views([sync.id])).get(sync.id);
  const perCollection = await recordCounts(deps.pool, sync.id);
  const counts = sync.collections.map((collection) => count(perCollection.get(collection)?.live ?? 0));
  const rows = sync.collections.map(
    (collection, i) => html`<tr data-collection="${collection}">
  <td><code>${collection}</code></td><td class="num">${counts[i]}</td>
  <td class="num"><button class="danger small" hx-post="/console/syncs/${sync.id}/collections/remove" hx-vals="${JSON.stringify({ collection })}"
    hx-target="#sync-${sync.id}" hx-swap="outerHTML"
    hx-confirm="Stop forwarding collection “${collection}” of “${sync.name}”? Rows already in your targets stay.">Remove</button></td>
</tr>`,
  );
  const names = receiving(sync, consumers).map((c) => c.name);
  return html`<section class="panel" id="sync-${sync.id}" data-sync="${sync.name}">
  ${notice ?? ""}
  <div class="page-head"><div><h2><a href="/console/syncs/${sync.id}">${sync.name}</a></h2><p class="sub" data-source-state="${source?.state ?? "pushed"}">${
    source
      ? html`${stateBadge(source.state)} ${healthBadge(source.health.status)} pulled from ${sync.provider}`
      : html`${sync.provider}, pushed`
  } · <code>${sync.id}</code>${names.length ? html` · forwarded by ${names.join(", ")}` : ""}</p></div>
  <button class="danger small" hx-post="/console/syncs/${sync.id}/delete" hx-target="#sync-${sync.id}" hx-swap="outerHTML"
    hx-confirm="Delete sync “${sync.name}” and its stream? Rows already in your targets stay.">Delete sync</button></div>
  ${sync.collections.length ? html`<table><thead><tr><th>Collection</th><th class="num">Records</th><th></th></tr></thead><tbody>${rows}</tbody></table>` : html`<p class="muted">No collection yet.</p>`}
</section>`;
}

export function syncsPage(app: FastifyInstance, deps: ServerDeps): void {
  app.get("/console/syncs", async (_request, reply) => {
    const [syncs, consumers] = await Promise.all([listSyncs(deps.pool), deps.consumers.list()]);
    const cards = await Promise.all(syncs.map((s) => syncCard(deps, s, consumers)));
    const body = html`<div class="page-head"><div><h1>Syncs</h1>
  <p class="sub">Accounts of API providers whose records stream into Sequin. Removing a sync or a collection stops forwarding it; rows already in your targets stay.</p></div>
  <a class="button" href="/console/syncs/new">Add sync</a></div>
${cards.length ? cards : html`<div class="panel empty">No sync yet: <a href="/console/syncs/new">add one</a> (Sequin pulls Stripe by itself; other providers' records you push), or try <code>sequin demo</code>.</div>`}`;
    return sendHtml(reply, page({ title: "Syncs", section: "syncs", body }));
  });

  app.post("/console/syncs/:id/collections/remove", async (request, reply) => {
    const id = idParam(request, "sync");
    const collection = String((request.body as Record<string, unknown> | undefined)?.collection ?? "");
    await removeCollection(deps.pool, id, collection);
    const [sync, consumers] = await Promise.all([getSync(deps.pool, id), deps.consumers.list()]);
    const notice = alert(
      "info",
      html`<p>Collection <code>${collection}</code> removed: its records are no longer forwarded.</p>${rowsStay(sync, consumers, collection)}`,
    );
    return sendHtml(reply, await syncCard(deps, sync, consumers, notice));
  });

  app.post("/console/syncs/:id/delete", async (request, reply) => {
    const id = idParam(request, "sync");
    const [sync, consumers] = await Promise.all([getSync(deps.pool, id), deps.consumers.list()]);
    await deleteSync(deps.pool, id);
    const notice = html`<p>Sync <strong>${sync.name}</strong> deleted: its records are no longer forwarded.</p>${rowsStay(sync, consumers)}`;
    return sendHtml(
      reply,
      html`<section class="panel" id="sync-${sync.id}" data-sync-deleted="${sync.name}">${alert("info", notice)}</section>`,
    );
  });
}
