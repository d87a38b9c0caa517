/** Service routes: health, and the OpenAPI document. Open to anyone (no token). */
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { openApiRoute } from "../openapi.js";
import type { ServerDeps } from "../server-deps.js";

const healthTimeoutMs = 3_000;

const healthSchema = z.object({ status: z.enum(["ok", "unavailable"]) }).meta({ id: "ServiceHealth" });

async function storeReachable(deps: ServerDeps): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), healthTimeoutMs);
  });
  try {
    const query = deps.pool.query("select 1").then(
      () => true,
      () => false,
    );
    return await Promise.race([query, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export function serviceRoutes(app: FastifyInstance, deps: ServerDeps): void {
  app.withTypeProvider<ZodTypeProvider>().get(
    "/health",
    {
      schema: {
        tags: ["service"],
        summary: "Whether the service can reach its store",
        security: [],
        response: { 200: healthSchema, 503: healthSchema },
      },
    },
    async (_request, reply) => {
      if (await storeReachable(deps)) return { status: "ok" as const };
      return reply.code(503).send({ status: "unavailable" });
    },
  );
  openApiRoute(app);
}
