/** Typed views: `POST /v1/consumers/postgres/{id}/views` infers a view of one collection from the target's rows. */
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { generatedViewSchema, TypedViews, viewQuerySchema, viewRequestSchema } from "../../views/index.js";
import { errorResponses, idParamsSchema, targetUnreachableResponse } from "../common-schemas.js";
import type { ServerDeps } from "../server-deps.js";

export function viewRoutes(server: FastifyInstance, { consumers, targets }: ServerDeps): void {
  const app = server.withTypeProvider<ZodTypeProvider>();
  const views = new TypedViews({ consumer: (id) => consumers.get(id), connect: (id) => targets.connect(id) });

  app.post(
    "/v1/consumers/postgres/:id/views",
    {
      schema: {
        tags: ["consumers"],
        operationId: "generatePostgresConsumerView",
        summary: "Generate a typed view of one collection of the consumer's table",
        description:
          "Samples the collection's newest rows in the target table (as the target's user), infers a column per payload key " +
          "and per key of a first-level object (text, bigint, numeric, boolean, timestamptz, date; deeper objects and arrays " +
          "jsonb), and returns the create or replace view statement. With apply=true it also runs it. A refusal of the " +
          "target (a missing privilege, a table of that name) is a 409 naming what to do.",
        params: idParamsSchema,
        querystring: viewQuerySchema,
        body: viewRequestSchema,
        response: { 200: generatedViewSchema, ...errorResponses, ...targetUnreachableResponse },
      },
    },
    async (request) =>
      views.generate(request.params.id, request.body, { apply: request.query.apply === "true" }),
  );
}
