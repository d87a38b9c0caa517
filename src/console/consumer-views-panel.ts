/**
 * The consumer page's typed views panel: per collection of the consumer's syncs, a button that generates
 * the view's statement (POST /v1/consumers/postgres/{id}/views underneath), shown with a copy button and
 * the inferred columns, and a button that creates the view in the target. It sits outside the part of the
 * page refreshed every 2 s, so a generated statement stays while the user reads and copies it.
 */
import type { FastifyInstance } from "fastify";
import type { ServerDeps } from "../api/server-deps.js";
import type { ConsumerView } from "../consumer/index.js";
import type { Sync } from "../stream/index.js";
import { parseOrThrow } from "../validation.js";
import { type GeneratedView, TypedViews, viewRequestSchema } from "../views/index.js";
import { idParam, sendHtml } from "./console-http.js";
import { type Html, html } from "./html.js";
import { alert } from "./layout.js";
import { count, sqlBlock } from "./view-helpers.js";

/** The collections of the syncs the consumer forwards, in the order the syncs list them. */
export function consumerCollections(c: ConsumerView, syncs: readonly Sync[]): string[] {
  const matching = syncs.filter((s) =>
    "provider" in c.filter ? s.provider === c.filter.provider : s.id === c.filter.sync_id,
  );
  return [...new Set(matching.flatMap((s) => s.collections))];
}

/** An element id for a collection's result, whatever characters its id has. */
function slotOf(collectionId: string): string {
  return `view-${Buffer.from(collectionId, "utf8").toString("hex")}`;
}

function generateForm(c: ConsumerView, collectionId: string, apply: boolean): Html {
  const view = `${c.table.schema}.${c.table.name}`;
  return html`<form hx-post="/console/consumers/${c.id}/views" hx-target="#${slotOf(collectionId)}" hx-swap="innerHTML">
  <input type="hidden" name="collection_id" value="${collectionId}">
  ${
    apply
      ? html`<input type="hidden" name="apply" value="true">
  <button type="submit" class="small" hx-confirm="Create or replace this view in the target, next to ${view}? It runs as the target's user.">Create the view in the target</button>`
      : html`<button type="submit" class="secondary small">Generate SQL</button>`
  }
</form>`;
}

export function viewsPanel(c: ConsumerView, collections: readonly string[]): Html {
  return html`<section class="panel" id="typed-views">
  <h2>Typed views</h2>
  <p class="muted">A view per collection with a column per payload key, typed from the newest rows in <code>${c.table.schema}.${c.table.name}</code>; run its statement in the target, or let Sequin create it.</p>
  ${
    collections.length === 0
      ? html`<p class="muted">No collection yet: the consumer's syncs have no records.</p>`
      : collections.map(
          (collection) => html`<div class="view-collection" data-view-collection="${collection}">
    <div class="actions"><code>${collection}</code>${generateForm(c, collection, false)}</div>
    <div id="${slotOf(collection)}"></div>
  </div>`,
        )
  }
</section>`;
}

function columnNotes(column: GeneratedView["columns"][number]): string {
  const notes = [];
  if (column.sample_errors > 0) {
    notes.push(
      `text: ${count(column.sample_errors)} sampled ${column.sample_errors === 1 ? "value" : "values"} did not fit the type of the others`,
    );
  }
  if (column.nullable) notes.push("some rows have no value");
  return notes.join("; ");
}

function result(c: ConsumerView, collectionId: string, view: GeneratedView): Html {
  const name = `${view.view.schema}.${view.view.name}`;
  return html`<div class="view-result" data-view-result="${collectionId}">
  ${view.applied ? alert("ok", html`Created or replaced view <code>${name}</code> in the target.`) : ""}
  <p class="muted">View <code>${name}</code>: ${count(view.columns.length)} payload columns inferred from ${count(view.sampled_rows)} rows.</p>
  ${sqlBlock(`${slotOf(collectionId)}-sql`, view.sql, "Copy SQL")}
  <div class="table-wrap"><table class="stack">
    <thead><tr><th>Column</th><th>Type</th><th>From</th><th>Notes</th></tr></thead>
    <tbody>${view.columns.map(
      (column) => html`<tr data-column="${column.name}">
      <td><code>${column.name}</code></td>
      <td data-label="Type">${column.type}</td>
      <td data-label="From"><code>${column.source_path}</code></td>
      <td data-label="Notes" class="${column.sample_errors > 0 ? "warning" : "muted"}">${columnNotes(column)}</td>
    </tr>`,
    )}</tbody>
  </table></div>
  ${view.applied ? "" : generateForm(c, collectionId, true)}
</div>`;
}

export function consumerViewsRoutes(app: FastifyInstance, deps: ServerDeps): void {
  const views = new TypedViews({
    consumer: (id) => deps.consumers.get(id),
    connect: (id) => deps.targets.connect(id),
  });
  app.post("/console/consumers/:id/views", async (request, reply) => {
    const id = idParam(request, "consumer");
    const form = (request.body ?? {}) as Record<string, string | undefined>;
    const body = parseOrThrow(viewRequestSchema, { collection_id: form.collection_id ?? "" });
    const [consumer, generated] = await Promise.all([
      deps.consumers.get(id),
      views.generate(id, body, { apply: form.apply === "true" }),
    ]);
    return sendHtml(reply, result(consumer, body.collection_id, generated));
  });
}
