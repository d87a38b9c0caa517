/**
 * Add sync: a provider Sequin pulls by itself (its credential, its collections, how fast and how often), or
 * any other provider, whose records you push. Submitting calls the same code as POST /v1/syncs, so the
 * credential is tried before anything is saved: a refusal comes back under the credential with the
 * provider's reason, every other field kept, the secret asked for again.
 */
import type { FastifyInstance } from "fastify";
import { createSyncFromBody, newSyncBodySchema } from "../api/routes/syncs.js";
import type { ServerDeps } from "../api/server-deps.js";
import { SequinError } from "../errors.js";
import {
  type CredentialChoice,
  type SettingField,
  type SourceKind,
  sourceFactories,
} from "../sources/index.js";
import { hxRedirect, sendHtml } from "./console-http.js";
import { formErrors, inputField } from "./form-fields.js";
import { type FieldErrors, type FormBody, formBody, parseForm, refusal, text } from "./form-input.js";
import { type Html, html } from "./html.js";
import { page } from "./layout.js";
import { errorId, fieldError } from "./view-helpers.js";

/** The choice for a provider whose records are pushed through the API. */
const push = "push";

function sourcedProviders(): { provider: string; kind: SourceKind; label: string }[] {
  return [...sourceFactories.entries()].map(([provider, { kind }]) => ({
    provider,
    kind,
    label: kind.label,
  }));
}

function sourcedProvider(choice: string | undefined) {
  return sourcedProviders().find((p) => p.provider === choice);
}

/** The way of giving the credential picked in the form; the kind's first when none (or another's) is. */
function credentialChoice(kind: SourceKind, values: FormBody): CredentialChoice {
  return kind.credentialChoices.find((c) => c.id === values.credential_choice) ?? kind.credentialChoices[0];
}

const credentialPath = (field: string) => `source.credentials.${field}`;
const settingPath = (field: string) => `source.settings.${field}`;

/** The fields the form shows now, so an error for any other lands at the top of the form. */
function shownFields(values: FormBody): string[] {
  const sourced = sourcedProvider(values.provider_choice);
  if (!sourced) return ["name", "provider", "collections_text"];
  return [
    "name",
    "collections",
    "source.base_url",
    "source.max_requests_per_second",
    "source.poll_interval_seconds",
    ...credentialChoice(sourced.kind, values).fields.map((f) => credentialPath(f.field)),
    ...(sourced.kind.settingFields ?? []).map((f) => settingPath(f.field)),
  ];
}

/** The values of a fresh form for `choice`: every collection of the provider checked. */
function defaultsFor(choice: string, values: FormBody = {}): FormBody {
  const sourced = sourcedProvider(choice);
  const out: FormBody = { name: values.name ?? "", provider_choice: choice };
  if (values.provider) out.provider = values.provider;
  for (const collection of sourced?.kind.collections ?? []) out[`collection.${collection}`] = "on";
  return out;
}

/**
 * The credential's inputs for the way picked; swapped when another way is picked. A secret is never
 * written back: after a refusal the person is asked to type it again.
 */
function credentialFields(kind: SourceKind, values: FormBody, errors: FieldErrors, refused: boolean): Html {
  const choice = credentialChoice(kind, values);
  const inputs = choice.fields.map((f) =>
    inputField({
      field: credentialPath(f.field),
      label: f.label,
      type: f.secret ? "password" : "text",
      values,
      errors,
      hint: f.hint,
      ...(f.required ? { required: true } : {}),
      ...(f.placeholder ? { placeholder: f.placeholder } : {}),
      ...(refused && f.secret
        ? { note: `Type the ${f.label} again: it is never sent back to the browser.` }
        : {}),
    }),
  );
  const anySecret = choice.fields.some((f) => f.secret);
  return html`<div id="credential-fields">${inputs}${anySecret ? "" : fieldError(errors, "source.credentials")}</div>`;
}

/** The ways of giving the credential, as radios, when the provider has more than one. */
function credentialChoices(kind: SourceKind, values: FormBody): Html {
  if (kind.credentialChoices.length < 2) return html``;
  const picked = credentialChoice(kind, values).id;
  const radios = kind.credentialChoices.map(
    (c) =>
      html`<label><input type="radio" name="credential_choice" id="credential-choice-${c.id}" value="${c.id}"${
        c.id === picked ? html` checked` : ""
      }> ${c.label}</label>`,
  );
  return html`<fieldset>
      <legend>How Sequin signs in</legend>
      <div class="choice" hx-get="/console/syncs/new/credentials" hx-trigger="change" hx-include="#sync-form [name=provider_choice]:checked, #sync-form [name=credential_choice]:checked" hx-target="#credential-fields" hx-swap="outerHTML">${radios}</div>
    </fieldset>`;
}

/** A setting's input: a list is a text area, one value per line. */
function settingField(f: SettingField, values: FormBody, errors: FieldErrors): Html {
  return inputField({
    field: settingPath(f.field),
    label: f.label,
    type: f.type === "list" ? "textarea" : "number",
    values,
    errors,
    hint: f.hint,
    ...(f.required ? { required: true } : {}),
    ...(f.placeholder ? { placeholder: f.placeholder } : {}),
    ...(f.type === "number" ? { extra: html`step="any" min="0"` } : {}),
  });
}

/** The part of the form that depends on the provider chosen: swapped when the choice changes. */
function providerFields(values: FormBody, errors: FieldErrors, refused: boolean): Html {
  const sourced = sourcedProvider(values.provider_choice);
  const submit = html`<div class="actions"><button type="submit">${sourced ? "Try the credential and add sync" : "Add sync"}</button><a class="button secondary" href="/console/syncs">Cancel</a></div>`;
  if (!sourced) {
    return html`<div id="provider-fields">
  <section class="panel">
    <h2>2. Provider and collections</h2>
    <p class="muted">No built-in source pulls this provider: your code pushes its records through <code>POST /v1/syncs/{id}/records</code>.</p>
    <div class="row">
      ${inputField({ field: "provider", label: "Provider", values, errors, required: true, placeholder: "hubspot", hint: "Lowercase letters, digits, _ . -; consumers can filter on it." })}
      ${inputField({ field: "collections_text", label: "Collections", values, errors, placeholder: "contacts, companies", hint: "Optional, separated by commas: they are also added as records arrive." })}
    </div>
  </section>
  ${submit}
</div>`;
  }
  const { kind } = sourced;
  const settings = kind.settingFields ?? [];
  const requiredSettings = settings.filter((f) => f.required);
  const optionalSettings = settings.filter((f) => !f.required);
  const collectionErrors = errors.collections;
  const boxes = kind.collections.map(
    (c) =>
      html`<label><input type="checkbox" name="collection.${c}" id="collection-${c}" value="on"${
        values[`collection.${c}`] ? html` checked` : ""
      }> <code>${c}</code></label>`,
  );
  const advancedOpen =
    values["source.base_url"] ||
    values["source.max_requests_per_second"] ||
    values["source.poll_interval_seconds"] ||
    optionalSettings.some((f) => values[settingPath(f.field)]) ||
    optionalSettings.some((f) => errors[settingPath(f.field)]);
  const pullTitle = [...requiredSettings.map((f) => f.label), "collections"].join(" and ");
  return html`<div id="provider-fields">
  <section class="panel">
    <h2>2. ${sourced.label} credentials</h2>
    ${credentialChoices(kind, values)}
    ${credentialFields(kind, values, errors, refused)}
  </section>
  <section class="panel">
    <h2>3. ${pullTitle.charAt(0).toUpperCase()}${pullTitle.slice(1)}</h2>
    ${requiredSettings.map((f) => settingField(f, values, errors))}
    <fieldset${collectionErrors?.length ? html` aria-invalid="true" aria-describedby="${errorId("collections")}"` : ""}>
      <legend>Collections to pull</legend>
      <div class="choice checkboxes" id="collections">${boxes}</div>
      <span class="hint">Each is read in full first (the backfill), then kept current from ${sourced.label}'s changes, deletes included.</span>
      ${fieldError(errors, "collections")}
    </fieldset>
    <details${advancedOpen ? html` open` : ""}>
      <summary>Advanced</summary>
      <div class="row">
        ${inputField({ field: "source.base_url", label: "Base URL", values, errors, placeholder: kind.defaultBaseUrl, hint: `Where ${sourced.label}'s API is; empty: ${kind.defaultBaseUrl}.` })}
        ${inputField({ field: "source.max_requests_per_second", label: "Max requests per second", type: "number", values, errors, placeholder: String(kind.defaultRequestsPerSecond), hint: `This sync's share of ${sourced.label}'s rate limit (at most ${kind.maxRequestsPerSecond}); empty: ${kind.defaultRequestsPerSecond}.`, extra: html`step="any" min="0"` })}
        ${inputField({ field: "source.poll_interval_seconds", label: "Poll interval (seconds)", type: "number", values, errors, placeholder: String(kind.defaultPollIntervalSeconds), hint: `How often changes are read once the backfill is done; empty: ${kind.defaultPollIntervalSeconds}.`, extra: html`step="any" min="0"` })}
      </div>
      ${optionalSettings.length ? html`<div class="row">${optionalSettings.map((f) => settingField(f, values, errors))}</div>` : ""}
    </details>
  </section>
  ${submit}
</div>`;
}

function syncForm(values: FormBody, errors: FieldErrors, refused = false): Html {
  const choice = values.provider_choice ?? "";
  const radio = (value: string, label: Html) =>
    html`<label><input type="radio" name="provider_choice" id="provider-choice-${value}" value="${value}"${
      choice === value ? html` checked` : ""
    }> ${label}</label>`;
  const choices = [
    ...sourcedProviders().map((p) => radio(p.provider, html`${p.label}`)),
    radio(push, html`Another provider`),
  ];
  const pulled = sourcedProviders().map((p) => p.label);
  return html`<form id="sync-form" hx-post="/console/syncs" hx-target="this" hx-swap="outerHTML" hx-disabled-elt="#sync-form button[type=submit]">
  ${formErrors(errors, shownFields(values))}
  <section class="panel">
    <h2>1. Name and provider</h2>
    ${inputField({ field: "name", label: "Name", values, errors, required: true, placeholder: "stripe-prod", hint: "One account of the provider, e.g. stripe-prod." })}
    <div class="choice" hx-get="/console/syncs/new/provider" hx-trigger="change" hx-include="#sync-form [name=provider_choice]:checked" hx-target="#provider-fields" hx-swap="outerHTML">${choices}</div>
    <span class="hint">Sequin pulls ${pulled.slice(0, -1).join(", ")} and ${pulled.at(-1)} from their APIs by itself; another provider's records are pushed by your code.</span>
  </section>
  ${providerFields(values, errors, refused)}
</form>`;
}

/** A decimal number when the value is one; otherwise the text, for the schema to refuse. */
function decimal(body: FormBody, key: string): number | string | undefined {
  const value = text(body, key);
  return value !== undefined && /^\d{1,6}(\.\d{1,6})?$/.test(value) ? Number(value) : value;
}

/** The form as POST /v1/syncs takes it. */
function syncInput(b: FormBody) {
  const sourced = sourcedProvider(b.provider_choice);
  if (!sourced) {
    const collections = (b.collections_text ?? "")
      .split(",")
      .map((c) => c.trim())
      .filter(Boolean);
    return {
      name: text(b, "name"),
      provider: text(b, "provider"),
      ...(collections.length ? { collections } : {}),
    };
  }
  const credentials: Record<string, string> = {};
  for (const f of credentialChoice(sourced.kind, b).fields) {
    const value = text(b, credentialPath(f.field));
    if (value !== undefined) credentials[f.field] = value;
  }
  const settings: Record<string, unknown> = {};
  for (const f of sourced.kind.settingFields ?? []) {
    const key = settingPath(f.field);
    if (f.type === "number") {
      const value = decimal(b, key);
      if (value !== undefined) settings[f.field] = value;
    } else {
      // one per line (or separated by commas); spaces inside an item stay, for the service to refuse by name
      const items = (b[key] ?? "")
        .split(/[\n,]/)
        .map((item) => item.trim())
        .filter(Boolean);
      if (items.length) settings[f.field] = items;
    }
  }
  const optional = (key: string, value: unknown) => (value === undefined ? {} : { [key]: value });
  return {
    name: text(b, "name"),
    provider: sourced.provider,
    collections: sourced.kind.collections.filter((c) => b[`collection.${c}`]),
    source: {
      credentials,
      ...optional("base_url", text(b, "source.base_url")),
      ...optional("max_requests_per_second", decimal(b, "source.max_requests_per_second")),
      ...optional("poll_interval_seconds", decimal(b, "source.poll_interval_seconds")),
      ...(Object.keys(settings).length ? { settings } : {}),
    },
  };
}

/**
 * The service's field paths, placed where the form shows them: a collection by its index under the
 * checkboxes, a list setting's item (`repositories[2]`) under the list, the provider's refusal of the
 * credential under the credential's secret.
 */
function placed(errors: FieldErrors, b: FormBody): FieldErrors {
  const sourced = sourcedProvider(b.provider_choice);
  const out: FieldErrors = {};
  const add = (field: string, messages: string[]) => {
    out[field] = [...(out[field] ?? []), ...messages];
  };
  const secret = sourced && credentialChoice(sourced.kind, b).fields.find((f) => f.secret);
  for (const [field, messages] of Object.entries(errors)) {
    const item = /^(source\.settings\.[a-z_]+)\[\d+\]$/.exec(field);
    if (/^collections(\[\d+\])?$/.test(field)) add(sourced ? "collections" : "collections_text", messages);
    else if (item?.[1]) add(item[1], messages);
    else if (field === "source.credentials" && secret) add(credentialPath(secret.field), messages);
    else if (field === "provider" && sourced) add("form", messages);
    else add(field, messages);
  }
  return out;
}

export function syncNewPage(app: FastifyInstance, deps: ServerDeps): void {
  app.get("/console/syncs/new", async (_request, reply) => {
    const values = defaultsFor(sourcedProviders()[0]?.provider ?? push);
    const body = html`<div class="page-head"><div><h1>Add sync</h1><p class="sub">An account of an API provider whose records stream into Sequin.</p></div></div>
${syncForm(values, {})}`;
    return sendHtml(reply, page({ title: "Add sync", section: "syncs", body }));
  });

  app.get<{ Querystring: Record<string, string> }>("/console/syncs/new/provider", async (request, reply) => {
    const values = defaultsFor(request.query.provider_choice ?? push, request.query);
    return sendHtml(reply, providerFields(values, {}, false));
  });

  app.get<{ Querystring: Record<string, string> }>(
    "/console/syncs/new/credentials",
    async (request, reply) => {
      const sourced = sourcedProvider(request.query.provider_choice);
      if (!sourced) return sendHtml(reply, html`<div id="credential-fields"></div>`);
      return sendHtml(reply, credentialFields(sourced.kind, request.query, {}, false));
    },
  );

  app.post("/console/syncs", async (request, reply) => {
    const values = formBody(request.body);
    const sourced = sourcedProvider(values.provider_choice);
    const parsed = parseForm(newSyncBodySchema, syncInput(values));
    // no box checked would pull every collection: the API's default, not what an unchecked form says
    const noCollection: FieldErrors =
      sourced && !sourced.kind.collections.some((c) => values[`collection.${c}`])
        ? { collections: ["choose at least one collection"] }
        : {};
    if (!parsed.ok || Object.keys(noCollection).length) {
      const errors = { ...(parsed.ok ? {} : placed(parsed.errors, values)), ...noCollection };
      return sendHtml(reply, syncForm(values, errors, true));
    }
    try {
      const sync = await createSyncFromBody(deps, parsed.value);
      return hxRedirect(reply, `/console/syncs/${sync.id}`);
    } catch (error) {
      const errors =
        error instanceof SequinError && error.code === "provider_unavailable"
          ? { [values["source.base_url"] ? "source.base_url" : "form"]: [error.message] }
          : refusal(error, (e) => (e.code === "conflict" ? "name" : "form"));
      return sendHtml(reply, syncForm(values, placed(errors, values), true));
    }
  });
}
