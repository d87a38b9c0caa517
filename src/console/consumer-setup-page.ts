/**
 * Add consumer, steps 4-5: the create table statement to run, verification that shows each problem with
 * its fix, and "Start consumer".
 */
import type { FastifyInstance } from "fastify";
import type { ServerDeps } from "../api/server-deps.js";
import type { VerifyResult } from "../consumer/index.js";
import { SequinError } from "../errors.js";
import { hxRedirect, idParam, sendHtml } from "./console-http.js";
import { html } from "./html.js";
import { alert, page } from "./layout.js";
import { flowSteps, sqlBlock, stateBadge } from "./view-helpers.js";

type Finding = VerifyResult["problems"][number];

/** The message without its trailing "— run: …" when the fix is shown on its own, ready to copy. */
function withoutFix(message: string): string {
  return message.split(" — run: ")[0]!;
}

function findings(list: Finding[], kind: "problem" | "warning", prefix: string) {
  return html`<ul class="findings">${list.map(
    (f, i) =>
      html`<li class="${kind}" data-finding="${f.kind}"><p>${f.fix_sql ? withoutFix(f.message) : f.message}</p>${
        f.fix_sql ? html`<p class="muted">Fix:</p>${sqlBlock(`${prefix}-${i}`, f.fix_sql)}` : ""
      }</li>`,
  )}</ul>`;
}

export function verifyResult(result: VerifyResult) {
  const warnings = result.warnings.length
    ? html`<h3>Warnings</h3><p class="muted">These do not stop a start, but may make writes fail later.</p>${findings(result.warnings, "warning", "warn-fix")}`
    : "";
  if (result.ok) {
    return html`<div id="verify-result" data-verified="ok">${alert("ok", "The table matches what Sequin writes: ready to start.")}${warnings}</div>`;
  }
  const n = result.problems.length;
  return html`<div id="verify-result" data-verified="problems">${alert("error", `${n} problem${n === 1 ? "" : "s"} to fix before starting:`)}${findings(result.problems, "problem", "fix")}${warnings}</div>`;
}

function verifyError(message: string) {
  return html`<div id="verify-result" data-verified="error">${alert("error", message)}</div>`;
}

export function consumerSetupPage(app: FastifyInstance, { consumers, targets }: ServerDeps): void {
  app.get("/console/consumers/:id/setup", async (request, reply) => {
    const c = await consumers.get(idParam(request, "consumer"));
    const target = await targets.get(c.target_id);
    const started = c.state !== "inactive";
    const body = html`<div class="page-head">
  <div><h1>${c.name}</h1><p class="sub">Writes to <code>${c.table.schema}.${c.table.name}</code> on ${target.name} ${stateBadge(c.state)}</p></div>
  <a class="button secondary" href="/console/consumers/${c.id}">Consumer details</a>
</div>
${started ? "" : flowSteps(4, 5)}
<section class="panel">
  <h2>4. Create the table</h2>
  <p class="muted">Run this statement on <strong>${target.connection.database}</strong> at ${target.connection.host}, as
  <code>${target.connection.username}</code> or a user whose tables it can write (with your database client of choice).
  Add no constraints, foreign keys or triggers of your own: build views on top instead.</p>
  ${sqlBlock("create-table-sql", c.create_table_sql)}
</section>
<section class="panel">
  <h2>5. Verify and start</h2>
  <p class="muted">Sequin connects as the target's user and compares the table with what it writes.</p>
  <div class="actions">
    <button class="secondary" hx-post="/console/consumers/${c.id}/verify" hx-target="#verify-result" hx-swap="outerHTML" hx-disabled-elt="this">Verify table</button>
    ${started ? html`<a class="button" href="/console/consumers/${c.id}">Running: see it live</a>` : html`<button hx-post="/console/consumers/${c.id}/start" hx-target="#verify-result" hx-swap="outerHTML" hx-disabled-elt="this">Start consumer</button>`}
  </div>
  <div id="verify-result"></div>
</section>`;
    return sendHtml(reply, page({ title: `Set up ${c.name}`, section: "consumers", body }));
  });

  app.post("/console/consumers/:id/verify", async (request, reply) => {
    try {
      return sendHtml(reply, verifyResult(await consumers.verify(idParam(request, "consumer"))));
    } catch (error) {
      if (error instanceof SequinError && error.code === "target_unreachable")
        return sendHtml(reply, verifyError(error.message));
      throw error;
    }
  });

  app.post("/console/consumers/:id/start", async (request, reply) => {
    const id = idParam(request, "consumer");
    try {
      await consumers.start(id);
      return hxRedirect(reply, `/console/consumers/${id}`);
    } catch (error) {
      if (!(error instanceof SequinError)) throw error;
      if (error.code === "table_invalid" && error.details) {
        return sendHtml(reply, verifyResult({ ok: false, ...(error.details as Omit<VerifyResult, "ok">) }));
      }
      if (error.code === "target_unreachable" || error.code === "conflict")
        return sendHtml(reply, verifyError(error.message));
      throw error;
    }
  });
}
