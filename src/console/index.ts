/**
 * The web console, served by the service at `/`: server-rendered HTML with htmx, signed in with an API
 * token. Pages use the same domain modules as the API (consumers, targets, stream); its only SQL is the
 * lag samples of lag-sample-queries.ts. The LagSampler is a background component of the service.
 */
import type { FastifyInstance } from "fastify";
import type { ServerDeps } from "../api/server-deps.js";
import { notFound } from "../errors.js";
import { assetsPrefix, consoleAssets } from "./console-assets.js";
import { consoleErrorHandler, isHtmx, withSecurityHeaders } from "./console-http.js";
import { ConsoleSessions, sameOrigin, sessionIdOf } from "./console-sessions.js";
import { consumerDetailPage } from "./consumer-detail-page.js";
import { consumerNewPage } from "./consumer-new-page.js";
import { consumerSetupPage } from "./consumer-setup-page.js";
import { consumersPage } from "./consumers-page.js";
import { loginRoutes } from "./login-page.js";
import { syncDetailPage } from "./sync-detail-page.js";
import { syncNewPage } from "./sync-new-page.js";
import { syncsPage } from "./syncs-page.js";
import { targetEditPage } from "./target-edit-page.js";
import { targetNewPage } from "./target-new-page.js";
import { targetsPage } from "./targets-page.js";

export { defaultLagSamplerOptions, LagSampler, type LagSamplerOptions } from "./lag-sampler.js";

const formBodyLimit = 1024 * 1024;

function isOpen(path: string): boolean {
  return path === "/login" || path.startsWith(assetsPrefix);
}

/**
 * Registers the console in a scope of its own (its form parser, sign-in check and HTML errors stay out of
 * the API). Call before the API's routes: its pages are not part of the Management API or its document.
 */
export async function registerConsole(app: FastifyInstance, deps: ServerDeps): Promise<void> {
  await app.register(async (scope) => {
    const sessions = new ConsoleSessions(deps.pool);
    scope.addContentTypeParser(
      "application/x-www-form-urlencoded",
      { parseAs: "string", bodyLimit: formBodyLimit },
      (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(body.toString()))),
    );
    scope.setErrorHandler(consoleErrorHandler(deps.log));
    scope.addHook("onSend", withSecurityHeaders);
    scope.addHook("onRequest", async (request, reply) => {
      const path = request.url.split("?")[0] ?? "/";
      if (request.method !== "GET" && request.method !== "HEAD" && !sameOrigin(request)) {
        return reply.code(403).type("text/plain; charset=utf-8").send("refused: a cross-site request");
      }
      if (isOpen(path) || (await sessions.valid(sessionIdOf(request)))) return;
      if (isHtmx(request)) return reply.code(200).header("hx-redirect", "/login").send("");
      const next = request.method === "GET" && path !== "/" ? `?next=${encodeURIComponent(request.url)}` : "";
      return reply.redirect(`/login${next}`, 303);
    });

    await consoleAssets(scope);
    loginRoutes(scope, deps, sessions);
    scope.get("/", async (_request, reply) => reply.redirect("/console/consumers", 303));
    consumersPage(scope, deps);
    consumerNewPage(scope, deps);
    consumerSetupPage(scope, deps);
    consumerDetailPage(scope, deps);
    targetsPage(scope, deps);
    targetNewPage(scope, deps);
    targetEditPage(scope, deps);
    syncsPage(scope, deps);
    syncNewPage(scope, deps);
    syncDetailPage(scope, deps);
    scope.get("/console", async (_request, reply) => reply.redirect("/console/consumers", 303));
    scope.get("/console/*", async (request) => {
      throw notFound("console page", request.url.split("?")[0] ?? "");
    });
  });
}
