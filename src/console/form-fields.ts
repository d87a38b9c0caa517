/** Labelled inputs with their error right under them, keeping what the user typed. */
import type { FieldErrors, FormBody } from "./form-input.js";
import { type Html, html } from "./html.js";
import { fieldAttrs, fieldError, fieldId } from "./view-helpers.js";

export interface FieldOptions {
  field: string;
  label: string;
  values: FormBody;
  errors: FieldErrors;
  type?: "text" | "number" | "password" | "textarea";
  hint?: string;
  /** Something the user must act on, shown under the field even when it has an error. */
  note?: string;
  placeholder?: string;
  required?: boolean;
  /** Never written back into the page, as passwords are not: an SSH private key. */
  secret?: boolean;
  /** Extra attributes, e.g. htmx ones: made with `html`. */
  extra?: Html;
}

export function inputField(o: FieldOptions): Html {
  const value = o.type === "password" || o.secret ? "" : (o.values[o.field] ?? "");
  // browsers must not autofill these with the console's own sign-in or offer to save a target's password
  const autocomplete = o.type === "password" ? "new-password" : "off";
  const attrs = html`${fieldAttrs(o.errors, o.field)} autocomplete="${autocomplete}"${o.required ? html` required` : ""}${
    o.placeholder ? html` placeholder="${o.placeholder}"` : ""
  } ${o.extra ?? ""}`;
  const control =
    o.type === "textarea"
      ? html`<textarea ${attrs}>${value}</textarea>`
      : html`<input type="${o.type ?? "text"}" value="${value}" ${attrs}>`;
  return html`<div class="field">
  <label for="${fieldId(o.field)}">${o.label}</label>
  ${control}
  ${o.hint ? html`<span class="hint">${o.hint}</span>` : ""}
  ${o.note ? html`<p class="field-note" id="note-${fieldId(o.field)}">${o.note}</p>` : ""}
  ${fieldError(o.errors, o.field)}
</div>`;
}

export function selectField(
  o: FieldOptions & { options: { value: string; label: string }[]; blank?: string },
): Html {
  const current = o.values[o.field] ?? "";
  const options = o.options.map(
    (opt) =>
      html`<option value="${opt.value}"${opt.value === current ? html` selected` : ""}>${opt.label}</option>`,
  );
  return html`<div class="field">
  <label for="${fieldId(o.field)}">${o.label}</label>
  <select ${fieldAttrs(o.errors, o.field)}${o.required ? html` required` : ""} ${o.extra ?? ""}>
    ${o.blank !== undefined ? html`<option value="">${o.blank}</option>` : ""}
    ${options}
  </select>
  ${o.hint ? html`<span class="hint">${o.hint}</span>` : ""}
  ${fieldError(o.errors, o.field)}
</div>`;
}

/** Errors that belong to no single field, at the top of a form. */
export function formErrors(errors: FieldErrors, known: string[]): Html {
  const other = Object.entries(errors).filter(([field]) => !known.includes(field));
  if (other.length === 0) return html``;
  return html`<div class="alert error" role="alert">${other.map(
    ([field, messages]) =>
      html`<p>${field === "form" || field === "body" ? "" : html`<strong>${field}</strong>: `}${messages.join("; ")}</p>`,
  )}</div>`;
}
