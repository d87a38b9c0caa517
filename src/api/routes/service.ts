/** Service routes: health, and the OpenAPI document. Open to anyone (no token). */
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { withTimeout } from "../../runtime/index.js";
import { openApiRoute } from "../openapi.js";
import type { ServerDeps } from "../server-deps.js";

const healthTimeoutMs = 3_000;

const healthSchema = z.object({ status: z.literal("ok") }).meta({ id: "ServiceHealth" });
/** The error envelope's fields, with the `status` that answers before the envelope existed kept. */
const unavailableSchema = z
  .object({ status: z.literal("unavailable"), code: z.literal("store_unavailable"), summary: z.string() })
  .meta({ id: "ServiceUnavailable" });

function storeReachable(deps: ServerDeps): Promise<boolean> {
  return withTimeout(healthTimeoutMs, () => deps.pool.query("select 1")).then(
    () => true,
    () => false,
  );
}

export function serviceRoutes(app: FastifyInstance, deps: ServerDeps): void {
  app.withTypeProvider<ZodTypeProvider>().get(
    "/health",
    {
      schema: {
        tags: ["service"],
        summary: "Whether the service can reach its store",
        security: [],
        response: { 200: healthSchema, 503: unavailableSchema },
      },
    },
    async (_request, reply) => {
      if (await storeReachable(deps)) return { status: "ok" as const };
      return reply.code(503).send({
        status: "unavailable" as const,
        code: "store_unavailable" as const,
        summary:
          "the service's store is unreachable right now: the service keeps running and recovers when it returns",
      });
    },
  );
  openApiRoute(app);
}
