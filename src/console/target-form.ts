/**
 * The target form, to add a target or edit one: the connection (optionally through a bastion) as the API
 * takes it, and where a refusal goes: validation errors under their fields, a refused connection under the
 * field the database's reason points at.
 */
import type { SequinError } from "../errors.js";
import { formErrors, inputField, selectField } from "./form-fields.js";
import { type FieldErrors, type FormBody, integer, text } from "./form-input.js";
import { html } from "./html.js";

/** The form's fields, named as the API's paths: errors on other paths show above the form. */
const formFields = [
  "name",
  ...["host", "port", "database", "username", "password", "ssl"].map((f) => `connection.${f}`),
  ...["host", "port", "username", "private_key"].map((f) => `ssh_tunnel.${f}`),
];

/** Adding a target, or editing one: the form posts to the same fields, with different defaults for secrets. */
export type TargetFormMode = { kind: "add" } | { kind: "edit"; id: string };

/**
 * `refused`: the form comes back after the service refused it. Secrets are never written back into the
 * page, so the password (and an SSH private key) must be typed again: the form says so next to them.
 */
export function connectForm(
  values: FormBody,
  errors: FieldErrors,
  mode: TargetFormMode = { kind: "add" },
  refused = false,
) {
  const adding = mode.kind === "add";
  const action = adding ? "/console/targets" : `/console/targets/${mode.id}`;
  const passwordHint = adding
    ? "Encrypted at rest; never shown again."
    : "Leave empty to keep the current password. Encrypted at rest; never shown again.";
  const passwordNote = !refused
    ? undefined
    : adding
      ? "Type the password again: it is never sent back to the browser."
      : "Type the new password again (it is never sent back to the browser), or leave it empty to keep the current one.";
  const keyHint = adding
    ? "OpenSSH private key of that user on the bastion; encrypted at rest, never shown again."
    : "Leave empty to keep the current key. Encrypted at rest; never shown again.";
  const keyNote =
    refused && values["ssh_tunnel.host"] && (adding || values["ssh_tunnel.private_key"])
      ? "Paste the private key again: it is never sent back to the browser."
      : undefined;
  return html`<form class="panel" id="target-form" hx-post="${action}" hx-target="this" hx-swap="outerHTML" hx-disabled-elt="find button[type=submit]">
  <h2>${adding ? "2. Connect" : "Target"}</h2>
  ${formErrors(errors, formFields)}
  ${inputField({ field: "name", label: "Name", values, errors, required: true, hint: "How consumers and alerts refer to this database." })}
  <fieldset>
    <legend>Connection</legend>
    <div class="row">
      ${inputField({ field: "connection.host", label: "Host", values, errors, required: true })}
      ${inputField({ field: "connection.port", label: "Port", type: "number", values, errors, required: true })}
      ${inputField({ field: "connection.database", label: "Database", values, errors, required: true })}
    </div>
    <div class="row">
      ${inputField({ field: "connection.username", label: "User", values, errors, required: true })}
      ${inputField({ field: "connection.password", label: adding ? "Password" : "New password", type: "password", values, errors, required: adding, hint: passwordHint, ...(passwordNote ? { note: passwordNote } : {}) })}
      ${selectField({
        field: "connection.ssl",
        label: "TLS",
        values,
        errors,
        options: ["prefer", "require", "verify-full", "disable"].map((v) => ({ value: v, label: v })),
      })}
    </div>
  </fieldset>
  <details${values["ssh_tunnel.host"] ? html` open` : ""}>
    <summary>Connect through a bastion host (SSH tunnel)</summary>
    <div class="row">
      ${inputField({ field: "ssh_tunnel.host", label: "Bastion host", values, errors, hint: adding ? undefined : "Empty: connect directly, without the bastion." })}
      ${inputField({ field: "ssh_tunnel.port", label: "SSH port", type: "number", values, errors })}
      ${inputField({ field: "ssh_tunnel.username", label: "SSH user", values, errors })}
    </div>
    ${inputField({ field: "ssh_tunnel.private_key", label: "Private key", type: "textarea", values, errors, secret: true, hint: keyHint, ...(keyNote ? { note: keyNote } : {}) })}
  </details>
  <div class="actions"><button type="submit">${adding ? "Test connection and add target" : "Test connection and save"}</button><a class="button secondary" href="/console/targets">Cancel</a></div>
</form>`;
}

/** The connection's refusal, next to the field the database's reason points at. */
export function unreachableField(error: SequinError): string {
  const m = error.message;
  if (/bastion|ssh/i.test(m)) return "ssh_tunnel.host";
  if (/password|authentication/i.test(m)) return "connection.password";
  if (/database ".*" does not exist/.test(m)) return "connection.database";
  if (/role ".*" does not exist/.test(m)) return "connection.username";
  if (/SSL|TLS|certificate/i.test(m)) return "connection.ssl";
  return "connection.host";
}

/** A new target, as POST /v1/targets/postgres takes it. */
export function targetInput(b: FormBody) {
  const sshHost = text(b, "ssh_tunnel.host");
  return {
    name: text(b, "name"),
    connection: {
      host: text(b, "connection.host"),
      port: integer(b, "connection.port"),
      database: text(b, "connection.database"),
      username: text(b, "connection.username"),
      password: b["connection.password"] ?? "",
      ssl: text(b, "connection.ssl"),
    },
    ...(sshHost
      ? {
          ssh_tunnel: {
            host: sshHost,
            port: integer(b, "ssh_tunnel.port") ?? 22,
            username: text(b, "ssh_tunnel.username"),
            private_key: text(b, "ssh_tunnel.private_key"),
          },
        }
      : {}),
  };
}

/**
 * A change, as PATCH /v1/targets/postgres/{id} takes it: the connection always (so it is tried before it
 * is saved), the password and the SSH key only when typed (empty keeps them), no bastion host removes the
 * tunnel.
 */
export function targetPatchInput(b: FormBody, hadTunnel: boolean) {
  const password = b["connection.password"] ?? "";
  const sshHost = text(b, "ssh_tunnel.host");
  const privateKey = text(b, "ssh_tunnel.private_key");
  return {
    name: text(b, "name"),
    connection: {
      host: text(b, "connection.host"),
      port: integer(b, "connection.port"),
      database: text(b, "connection.database"),
      username: text(b, "connection.username"),
      ssl: text(b, "connection.ssl"),
      ...(password ? { password } : {}),
    },
    ...(sshHost
      ? {
          ssh_tunnel: {
            host: sshHost,
            port: integer(b, "ssh_tunnel.port") ?? 22,
            username: text(b, "ssh_tunnel.username"),
            ...(privateKey ? { private_key: privateKey } : {}),
          },
        }
      : hadTunnel
        ? { ssh_tunnel: null }
        : {}),
  };
}
