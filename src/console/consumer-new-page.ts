/**
 * Add consumer, steps 1-3 of adding a consumer: select the target, filter by a provider the service knows
 * (those of existing syncs and those a sync can pull by itself) or by a sync, name the
 * schema and table. The consumer is saved inactive; steps 4-5 (the create table statement, verification,
 * start) follow on its setup page.
 */
import type { FastifyInstance } from "fastify";
import type { ServerDeps } from "../api/server-deps.js";
import { knownProviders, newConsumerSchema } from "../consumer/index.js";
import { plural } from "../plural.js";
import { listSyncs, type Sync } from "../stream/index.js";
import type { TargetView } from "../targets/index.js";
import { hxRedirect, sendHtml } from "./console-http.js";
import { formErrors, inputField, selectField } from "./form-fields.js";
import {
  type FieldErrors,
  type FormBody,
  formBody,
  integer,
  parseForm,
  refusal,
  text,
} from "./form-input.js";
import { html } from "./html.js";
import { alert, page } from "./layout.js";
import { flowSteps } from "./view-helpers.js";

const formFields = [
  "target_id",
  "filter.provider",
  "filter.sync_id",
  "table.schema",
  "table.name",
  "name",
  "lag_alert_seconds",
];

function consumerForm(values: FormBody, errors: FieldErrors, targets: TargetView[], syncs: Sync[]) {
  const kind = values.filter_kind === "sync" ? "sync" : "provider";
  const syncCount = (p: string) => syncs.filter((s) => s.provider === p).length;
  const providers = knownProviders(syncs).map((p) => {
    const n = syncCount(p);
    return { value: p, label: n ? `${p} (${plural(n, "sync")})` : `${p} (no sync yet)` };
  });
  const radio = (k: string, label: string) =>
    html`<label><input type="radio" name="filter_kind" id="filter-kind-${k}" value="${k}"${kind === k ? html` checked` : ""}> ${label}</label>`;
  return html`<form id="consumer-form" hx-post="/console/consumers" hx-target="this" hx-swap="outerHTML" hx-disabled-elt="find button[type=submit]">
  ${formErrors(errors, formFields)}
  <section class="panel">
    <h2>1. Select target</h2>
    ${selectField({ field: "target_id", label: "Target", values, errors, required: true, blank: "Choose a target…", options: targets.map((t) => ({ value: t.id, label: `${t.name} (${t.connection.host}/${t.connection.database})` })) })}
  </section>
  <section class="panel">
    <h2>2. Configure filtering</h2>
    <div class="choice">${radio("provider", "By provider")}${radio("sync", "By sync")}</div>
    <div class="only-provider">
      ${selectField({ field: "filter.provider", label: "Provider", values, errors, blank: "Choose a provider…", options: providers, hint: "Every sync of this provider, including syncs added later." })}
    </div>
    <div class="only-sync">
      ${selectField({ field: "filter.sync_id", label: "Sync", values, errors, blank: "Choose a sync…", options: syncs.map((s) => ({ value: s.id, label: `${s.name} (${s.provider})` })), hint: "Only this sync's records." })}
    </div>
  </section>
  <section class="panel">
    <h2>3. Configure your table</h2>
    <p class="muted">Every record of the filter is upserted into this one table. The target's user needs access to the schema.</p>
    <div class="row">
      ${inputField({ field: "table.schema", label: "Schema", values, errors, required: true })}
      ${inputField({ field: "table.name", label: "Table", values, errors, required: true })}
    </div>
    <div class="row">
      ${inputField({ field: "name", label: "Consumer name", values, errors, required: true })}
      ${inputField({ field: "lag_alert_seconds", label: "Lag alert after (seconds)", type: "number", values, errors, hint: "Optional: the service's default otherwise." })}
    </div>
  </section>
  <div class="actions"><button type="submit">Continue: create table statement</button><a class="button secondary" href="/console/consumers">Cancel</a></div>
</form>`;
}

function consumerInput(b: FormBody) {
  const filter =
    b.filter_kind === "sync"
      ? { sync_id: text(b, "filter.sync_id") }
      : { provider: text(b, "filter.provider") };
  const lag = integer(b, "lag_alert_seconds");
  return {
    name: text(b, "name"),
    target_id: text(b, "target_id"),
    filter,
    table: { schema: text(b, "table.schema"), name: text(b, "table.name") },
    ...(lag !== undefined ? { lag_alert_seconds: lag } : {}),
  };
}

/** Plain words for a missing choice, on the field the user sees. */
function friendlier(errors: FieldErrors, b: FormBody): FieldErrors {
  const out = { ...errors };
  const field = b.filter_kind === "sync" ? "filter.sync_id" : "filter.provider";
  const filterErrors = Object.keys(out).filter((k) => k === "filter" || k.startsWith("filter."));
  if (filterErrors.length) {
    for (const k of filterErrors) delete out[k];
    out[field] = [
      text(b, field) ? "is not valid" : b.filter_kind === "sync" ? "choose a sync" : "choose a provider",
    ];
  }
  if (out.target_id && !text(b, "target_id")) out.target_id = ["choose a target"];
  return out;
}

export function consumerNewPage(app: FastifyInstance, { consumers, targets, pool }: ServerDeps): void {
  const render = async (values: FormBody, errors: FieldErrors) => {
    const [targetList, syncs] = await Promise.all([targets.list(), listSyncs(pool)]);
    return { form: consumerForm(values, errors, targetList, syncs), hasTargets: targetList.length > 0 };
  };

  app.get<{ Querystring: { target_id?: string } }>("/console/consumers/new", async (request, reply) => {
    const values = {
      target_id: request.query.target_id ?? "",
      filter_kind: "provider",
      "table.schema": "sequin",
      "table.name": "records",
    };
    const { form, hasTargets } = await render(values, {});
    const body = html`<div class="page-head"><div><h1>Add consumer</h1><p class="sub">Mirror a provider or a sync into a table of your database.</p></div></div>
${flowSteps(1, 3)}
${hasTargets ? "" : alert("info", html`No target yet: <a href="/console/targets/new">add the database first</a>.`)}
${form}`;
    return sendHtml(reply, page({ title: "Add consumer", section: "consumers", body }));
  });

  app.post("/console/consumers", async (request, reply) => {
    const values = formBody(request.body);
    const parsed = parseForm(newConsumerSchema, consumerInput(values));
    if (!parsed.ok) return sendHtml(reply, (await render(values, friendlier(parsed.errors, values))).form);
    try {
      const consumer = await consumers.create(parsed.value);
      return hxRedirect(reply, `/console/consumers/${consumer.id}/setup`);
    } catch (error) {
      const errors = refusal(error, (e) => (e.code === "conflict" ? "name" : "form"));
      return sendHtml(reply, (await render(values, errors)).form);
    }
  });
}
