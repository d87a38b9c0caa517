/**
 * Add consumer, steps 4-5: the create table statement to run, verification that shows each problem with
 * its fix, and "Start consumer".
 */
import type { FastifyInstance } from "fastify";
import type { ServerDeps } from "../api/server-deps.js";
import { type TableFindings, type VerifyResult, verifyAnswer } from "../consumer/index.js";
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

/**
 * The answer's summary first, worded for the consumer's state: green only when there is nothing to fix
 * and the consumer is not failing or waiting for its target (then it leads with that failure).
 */
export function verifyResult(result: VerifyResult) {
  const warnings = result.warnings.length
    ? html`<h3>Warnings</h3><p class="muted">These do not stop the consumer, but may make its writes fail later.</p>${findings(result.warnings, "warning", "warn-fix")}`
    : "";
  const problems = result.problems.length ? findings(result.problems, "problem", "fix") : "";
  const verdict = result.failure ? result.state : result.ok ? "ok" : "problems";
  const level = result.ok && !result.failure ? "ok" : "error";
  return html`<div id="verify-result" data-verified="${verdict}">${alert(level, result.summary)}${problems}${warnings}</div>`;
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
${c.warnings.map((w) => html`<div class="alert warning" role="status" data-warning="${w.kind}">${w.message}</div>`)}
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
        const consumer = await consumers.get(id);
        return sendHtml(
          reply,
          verifyResult(verifyAnswer(consumer, error.details as Omit<TableFindings, "ok">)),
        );
      }
      if (error.code === "target_unreachable" || error.code === "conflict")
        return sendHtml(reply, verifyError(error.message));
      throw error;
    }
  });
}
