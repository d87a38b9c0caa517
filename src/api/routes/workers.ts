/** `GET /v1/workers`: the live worker processes sharing the store, and how much work each holds. */
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { selectLiveWorkers } from "../../work/index.js";
import { errorResponses } from "../common-schemas.js";
import type { ServerDeps } from "../server-deps.js";

const workerSchema = z
  .object({
    id: z.string().describe("the worker's id; consumers running there name it as worker_id"),
    hostname: z.string(),
    pid: z.number().int(),
    role: z.enum(["all", "worker"]).describe("SEQUIN_ROLE of the process"),
    started_at: z.string(),
    heartbeat_at: z
      .string()
      .describe("its latest heartbeat; a worker is live while it is younger than its lease"),
    consumers: z.number().int().describe("consumers it runs"),
    syncs: z.number().int().describe("sourced syncs it runs"),
  })
  .meta({ id: "Worker" });

export function workerRoutes(server: FastifyInstance, { pool }: ServerDeps): void {
  server.withTypeProvider<ZodTypeProvider>().get(
    "/v1/workers",
    {
      schema: {
        tags: ["workers"],
        operationId: "listWorkers",
        summary: "The live worker processes sharing this store",
        description:
          "Each `sequin start` process with SEQUIN_ROLE all or worker, while its heartbeat is younger than " +
          "its lease (SEQUIN_LEASE_SECONDS). Work is spread evenly: each holds at most ceil(active / live workers).",
        response: { 200: z.object({ data: z.array(workerSchema) }), ...errorResponses },
      },
    },
    async () => ({
      data: (await selectLiveWorkers(pool)).map((w) => ({
        id: w.id,
        hostname: w.hostname,
        pid: w.pid,
        role: w.role === "worker" ? ("worker" as const) : ("all" as const),
        started_at: w.started_at.toISOString(),
        heartbeat_at: w.heartbeat_at.toISOString(),
        consumers: w.consumers,
        syncs: w.sources,
      })),
    }),
  );
}
