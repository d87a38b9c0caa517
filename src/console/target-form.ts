/**
 * The add-target form: the connection (optionally through a bastion) as the API takes it, and where a
 * refusal goes: validation errors under their fields, a refused connection under the field the database's
 * reason points at.
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

export function connectForm(values: FormBody, errors: FieldErrors) {
  return html`<form class="panel" id="target-form" hx-post="/console/targets" hx-target="this" hx-swap="outerHTML" hx-disabled-elt="find button[type=submit]">
  <h2>2. Connect</h2>
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
      ${inputField({ field: "connection.password", label: "Password", type: "password", values, errors, hint: errors["connection.password"] ? undefined : "Encrypted at rest; never shown again." })}
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
      ${inputField({ field: "ssh_tunnel.host", label: "Bastion host", values, errors })}
      ${inputField({ field: "ssh_tunnel.port", label: "SSH port", type: "number", values, errors })}
      ${inputField({ field: "ssh_tunnel.username", label: "SSH user", values, errors })}
    </div>
    ${inputField({ field: "ssh_tunnel.private_key", label: "Private key", type: "textarea", values, errors, secret: true, hint: errors["ssh_tunnel.private_key"] ? undefined : "OpenSSH private key of that user on the bastion; encrypted at rest, never shown again (paste it again after a refusal)." })}
  </details>
  <div class="actions"><button type="submit">Test connection and add target</button><a class="button secondary" href="/console/targets">Cancel</a></div>
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
