/** Sign-in with an API token (checked like the API's bearer tokens), and sign-out. */
import type { FastifyInstance } from "fastify";
import type { ServerDeps } from "../api/server-deps.js";
import { sendHtml } from "./console-http.js";
import { type ConsoleSessions, sessionIdOf, setSessionCookie } from "./console-sessions.js";
import { formBody, text } from "./form-input.js";
import { html } from "./html.js";
import { barePage } from "./layout.js";
import { fieldAttrs, fieldError } from "./view-helpers.js";

/** Only paths of this server, never another site (`//evil.example`). */
function safeNext(next: unknown): string {
  return typeof next === "string" && /^\/(?![/\\])/.test(next) ? next : "/console/consumers";
}

function loginForm(next: string, errors: Record<string, string[]> = {}) {
  return barePage(
    "Sign in",
    html`<div class="signin">
  <h1>Sequin</h1>
  <p class="muted">Sign in with an API token: <code>SEQUIN_API_TOKEN</code>, or the token printed when the service first started.</p>
  <form method="post" action="/login" class="panel">
    <input type="hidden" name="next" value="${next}">
    <div class="field">
      <label for="field-token">API token</label>
      <input type="password" ${fieldAttrs(errors, "token")} autocomplete="current-password" required autofocus>
      ${fieldError(errors, "token")}
    </div>
    <button type="submit">Sign in</button>
  </form>
</div>`,
  );
}

export function loginRoutes(app: FastifyInstance, { tokens }: ServerDeps, sessions: ConsoleSessions): void {
  app.get<{ Querystring: { next?: string } }>("/login", async (request, reply) => {
    const next = safeNext(request.query.next);
    if (await sessions.valid(sessionIdOf(request))) return reply.redirect(next, 303);
    return sendHtml(reply, loginForm(next));
  });

  app.post("/login", async (request, reply) => {
    const body = formBody(request.body);
    const next = safeNext(body.next);
    const token = text(body, "token");
    if (token === undefined) return sendHtml(reply, loginForm(next, { token: ["enter an API token"] }));
    if (!(await tokens.verify(token))) {
      // answered 200 with the form again (browsers log any 4xx as a console error)
      return sendHtml(
        reply,
        loginForm(next, {
          token: ["this token is not valid: check SEQUIN_API_TOKEN or the token you were given"],
        }),
      );
    }
    await sessions.end(sessionIdOf(request));
    setSessionCookie(request, reply, await sessions.create());
    return reply.redirect(next, 303);
  });

  app.post("/logout", async (request, reply) => {
    await sessions.end(sessionIdOf(request));
    setSessionCookie(request, reply, null);
    return reply.redirect("/login", 303);
  });
}
