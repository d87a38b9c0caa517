/**
 * `GET /metrics`: Prometheus text. Open like /health so any scraper can read it, unless
 * SEQUIN_METRICS_TOKEN is set; then that bearer token is required.
 */
import { timingSafeEqual } from "node:crypto";
import type { FastifyInstance } from "fastify";
import { SequinError } from "../../errors.js";
import type { ServerDeps } from "../server-deps.js";

function tokenMatches(header: string | undefined, expected: string): boolean {
  const given = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header ?? "")?.[1];
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function metricsRoutes(app: FastifyInstance, deps: ServerDeps): void {
  app.get(
    "/metrics",
    {
      schema: {
        tags: ["service"],
        summary: "Prometheus metrics: consumer lag and state, records applied, batch latency, errors",
        security: deps.config.metricsToken ? [{ bearerAuth: [] }] : [],
        produces: ["text/plain"],
      },
    },
    async (request, reply) => {
      const token = deps.config.metricsToken;
      if (token && !tokenMatches(request.headers.authorization, token)) {
        throw new SequinError(
          "unauthorized",
          "metrics need the header Authorization: Bearer <SEQUIN_METRICS_TOKEN>",
        );
      }
      const body = await deps.metrics.text();
      return reply.type(deps.metrics.registry.contentType).send(body);
    },
  );
}
