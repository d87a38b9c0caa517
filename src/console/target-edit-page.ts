/**
 * Edit target: rename it or change its connection, e.g. a new password after a rotation. The connection is
 * tried before it is saved, as when the target was added; the password and the SSH key stay unless new ones
 * are typed. Consumers use the saved connection from their next attempt.
 */
import type { FastifyInstance } from "fastify";
import type { ServerDeps } from "../api/server-deps.js";
import { type TargetView, targetPatchSchema } from "../targets/index.js";
import { hxRedirect, idParam, sendHtml } from "./console-http.js";
import { type FormBody, formBody, parseForm, refusal } from "./form-input.js";
import { html } from "./html.js";
import { page } from "./layout.js";
import { connectForm, targetPatchInput, unreachableField } from "./target-form.js";

function valuesOf(t: TargetView): FormBody {
  const c = t.connection;
  return {
    name: t.name,
    "connection.host": c.host,
    "connection.port": String(c.port),
    "connection.database": c.database,
    "connection.username": c.username,
    "connection.ssl": c.ssl,
    ...(t.ssh_tunnel
      ? {
          "ssh_tunnel.host": t.ssh_tunnel.host,
          "ssh_tunnel.port": String(t.ssh_tunnel.port),
          "ssh_tunnel.username": t.ssh_tunnel.username,
        }
      : {}),
  };
}

export function targetEditPage(app: FastifyInstance, { targets }: ServerDeps): void {
  app.get("/console/targets/:id/edit", async (request, reply) => {
    const target = await targets.get(idParam(request, "target"));
    const body = html`<div class="page-head"><div><h1>Edit target ${target.name}</h1>
  <p class="sub">The connection is tried before it is saved. Consumers of this target use the new connection from their next attempt; a consumer waiting for the target resumes by itself once it can connect.</p></div></div>
${connectForm(valuesOf(target), {}, { kind: "edit", id: target.id })}`;
    return sendHtml(reply, page({ title: `Edit ${target.name}`, section: "targets", body }));
  });

  app.post("/console/targets/:id", async (request, reply) => {
    const id = idParam(request, "target");
    const current = await targets.get(id);
    const values = formBody(request.body);
    const mode = { kind: "edit", id } as const;
    const parsed = parseForm(targetPatchSchema, targetPatchInput(values, current.ssh_tunnel !== null));
    if (!parsed.ok) return sendHtml(reply, connectForm(values, parsed.errors, mode, true));
    try {
      const saved = await targets.update(id, parsed.value);
      return hxRedirect(reply, `/console/targets?saved=${saved.id}`);
    } catch (error) {
      const errors = refusal(error, (e) => (e.code === "conflict" ? "name" : unreachableField(e)));
      return sendHtml(reply, connectForm(values, errors, mode, true));
    }
  });
}
