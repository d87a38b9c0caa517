/**
 * The HTTP server: the Management API under /v1, /health and /openapi.json, and the web console at / (see
 * src/console). Zod schemas validate requests, serialize responses and make the OpenAPI document. Every API
 * error answers with the envelope of error-envelope.ts.
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from "fastify";
import { serializerCompiler } from "fastify-type-provider-zod";
import { SequinError } from "../errors.js";
import { installAuth } from "./auth.js";
import { answerClientError, installErrorHandling, maxPathParamLength, sendError } from "./error-envelope.js";
import { installJsonBodyParser } from "./json-body.js";
import { registerOpenApi } from "./openapi.js";
import { zodValidatorCompiler } from "./request-validation.js";
import { changesRoutes } from "./routes/changes.js";
import { consumerRoutes } from "./routes/consumers.js";
import { metricsRoutes } from "./routes/metrics.js";
import { serviceRoutes } from "./routes/service.js";
import { sshKeyRoutes } from "./routes/ssh-keys.js";
import { syncRoutes } from "./routes/syncs.js";
import { targetRoutes } from "./routes/targets.js";
import { viewRoutes } from "./routes/views.js";
import { workerRoutes } from "./routes/workers.js";
import type { ServerDeps } from "./server-deps.js";

export const bodyLimitBytes = 32 * 1024 * 1024;

export interface RouteEntry {
  method: string;
  url: string;
}

const routeTables = new WeakMap<FastifyInstance, RouteEntry[]>();

/** Every route the server has, as registered (HEAD routes fastify adds for GET included). */
export function routeTable(app: FastifyInstance): RouteEntry[] {
  return [...(routeTables.get(app) ?? [])];
}

export interface ServerOptions {
  /**
   * Pages served beside the API (the web console), registered before the API's routes so that neither the
   * route table nor the OpenAPI document lists them. Given by the caller, so the API does not depend on
   * the console (the console builds on the API's types and error envelope).
   */
  pages?: (app: FastifyInstance, deps: ServerDeps) => Promise<void>;
}

/**
 * Builds the server with every route. It is not started: the caller may add routes, then `listen()` or
 * `inject()`.
 */
export async function buildServer(deps: ServerDeps, options: ServerOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.log as FastifyBaseLogger,
    bodyLimit: bodyLimitBytes,
    // one debug line per request, from the onResponse hook below
    logController: new LogController({ disableRequestLogging: true }),
    // our own 503 below answers with the error envelope
    return503OnClosing: false,
    // a path the router cannot decode, or a request the HTTP parser refuses, answers with the envelope too
    frameworkErrors: sendError,
    clientErrorHandler: answerClientError,
    // collection ids of 255 characters, percent-encoded, are longer than the default of 100
    routerOptions: { maxParamLength: maxPathParamLength },
  });
  // the pages first: they are not API routes, so neither the route table nor the OpenAPI document (both
  // fed by onRoute hooks added below) list them; a `worker` process answers only /health, /metrics and
  // /openapi.json
  const serveApi = deps.config.role !== "worker";
  if (serveApi && options.pages) await options.pages(app, deps);
  const routes: RouteEntry[] = [];
  routeTables.set(app, routes);
  app.addHook("onRoute", (route) => {
    for (const method of [route.method].flat()) routes.push({ method, url: route.url });
  });

  installJsonBodyParser(app);
  app.setValidatorCompiler(zodValidatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  installErrorHandling(app);

  let closing = false;
  app.addHook("preClose", async () => {
    closing = true;
  });
  app.addHook("onRequest", async (_request, reply) => {
    if (!closing) return;
    reply.header("connection", "close");
    throw new SequinError("store_unavailable", "the service is shutting down: retry in a moment");
  });
  installAuth(app, deps.tokens);
  app.addHook("onResponse", async (request, reply) => {
    request.log.debug(
      {
        method: request.method,
        route: request.routeOptions.url,
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
      },
      "request",
    );
  });

  await registerOpenApi(app);
  serviceRoutes(app, deps);
  metricsRoutes(app, deps);
  if (!serveApi) return app;
  syncRoutes(app, deps);
  targetRoutes(app, deps);
  sshKeyRoutes(app, deps);
  consumerRoutes(app, deps);
  viewRoutes(app, deps);
  workerRoutes(app, deps);
  changesRoutes(app, deps);
  return app;
}
