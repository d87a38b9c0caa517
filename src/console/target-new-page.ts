/**
 * Add target, as the README's setup guide goes: 1. the setup SQL for a schema, a user and its grants, ready to
 * copy; 2. the connection (the user and database of step 1 carried over), tried before it is saved, refused
 * with the database's reason next to the field; the password is typed again after a refusal.
 */
import type { FastifyInstance } from "fastify";
import type { ServerDeps } from "../api/server-deps.js";
import { newTargetSchema } from "../targets/index.js";
import { passwordPlaceholder, setupSql } from "../targets/postgres/index.js";
import { hxRedirect, sendHtml } from "./console-http.js";
import { type FieldErrors, formBody, parseForm, refusal } from "./form-input.js";
import { html } from "./html.js";
import { page } from "./layout.js";
import { connectForm, targetInput, unreachableField } from "./target-form.js";
import { fieldId, sqlBlock } from "./view-helpers.js";

const setupDefaults = { schema: "sequin", user: "sequin", database: "postgres" };

/** The statements; as an htmx answer (`oob`), also each name's error, swapped in under its input. */
function setupBlock(values: typeof setupDefaults, oob: boolean) {
  let sql = "";
  let errors: FieldErrors = {};
  try {
    sql = setupSql(values);
  } catch (error) {
    errors = refusal(error);
  }
  const fieldErrors = (["schema", "user", "database"] as const).map(
    (f) =>
      html`<p class="field-error" id="setup-error-${f}" hx-swap-oob="true">${errors[f]?.join("; ") ?? ""}</p>`,
  );
  return html`<div id="setup-sql">${sql ? sqlBlock("setup-sql-text", sql) : html`<p class="muted">Fix the names above to see the statements.</p>`}</div>${oob ? fieldErrors : ""}`;
}

/** Step 1's names that step 2 asks for again: typed once, they carry over (console.js). */
const carriedTo: Partial<Record<keyof typeof setupDefaults, string>> = {
  user: fieldId("connection.username"),
  database: fieldId("connection.database"),
};

function setupPanel() {
  const input = (f: keyof typeof setupDefaults, label: string) => html`<div class="field">
  <label for="setup-${f}">${label}</label>
  <input id="setup-${f}" name="${f}" value="${setupDefaults[f]}" autocomplete="off"${
    carriedTo[f] ? html` data-carry="${carriedTo[f]}"` : ""
  }>
  <p class="field-error" id="setup-error-${f}"></p>
</div>`;
  return html`<section class="panel">
  <h2>1. Prepare your database</h2>
  <p class="muted">Run these statements as an admin of your database: a schema for Sequin's tables, a user for Sequin and the
  least privileges it needs (connect, use the schema, read and write its present and future tables). Replace
  <code>${passwordPlaceholder}</code> with a password of your own.</p>
  <form hx-get="/console/targets/setup-sql" hx-trigger="input changed delay:300ms" hx-target="#setup-sql" hx-swap="outerHTML">
    <div class="row">${input("schema", "Schema for Sequin")}${input("user", "User to create")}${input("database", "Your database")}</div>
  </form>
  ${setupBlock(setupDefaults, false)}
</section>`;
}

export function targetNewPage(app: FastifyInstance, { targets }: ServerDeps): void {
  app.get("/console/targets/new", async (_request, reply) => {
    const values = {
      "connection.port": "5432",
      "connection.username": setupDefaults.user,
      "connection.database": setupDefaults.database,
      "connection.ssl": "prefer",
    };
    const body = html`<div class="page-head"><div><h1>Add target</h1><p class="sub">A Postgres database your consumers write to.</p></div></div>
${setupPanel()}
${connectForm(values, {})}`;
    return sendHtml(reply, page({ title: "Add target", section: "targets", body }));
  });

  app.get<{ Querystring: Record<string, string> }>("/console/targets/setup-sql", async (request, reply) => {
    const q = request.query;
    return sendHtml(
      reply,
      setupBlock({ schema: q.schema ?? "", user: q.user ?? "", database: q.database ?? "" }, true),
    );
  });

  app.post("/console/targets", async (request, reply) => {
    const values = formBody(request.body);
    const parsed = parseForm(newTargetSchema, targetInput(values));
    // an empty password is a password not typed again after a refusal far more often than a user without one
    const noPassword: FieldErrors = values["connection.password"]
      ? {}
      : { "connection.password": ["type the password of this user"] };
    if (!parsed.ok || !values["connection.password"]) {
      const errors = { ...(parsed.ok ? {} : parsed.errors), ...noPassword };
      return sendHtml(reply, connectForm(values, errors, { kind: "add" }, true));
    }
    try {
      const target = await targets.create(parsed.value);
      return hxRedirect(reply, `/console/targets?added=${target.id}`);
    } catch (error) {
      const errors = refusal(error, (e) => (e.code === "conflict" ? "name" : unreachableField(e)));
      return sendHtml(reply, connectForm(values, errors, { kind: "add" }, true));
    }
  });
}
