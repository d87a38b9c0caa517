/** Postgres targets, the user's databases: `/v1/targets/postgres…`. Passwords go in, never out. */
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import {
  connectionTestSchema,
  newTargetSchema,
  targetPatchSchema,
  targetSchema,
} from "../../targets/index.js";
import {
  errorResponses,
  idParamsSchema,
  listOf,
  noContent,
  targetUnreachableResponse,
} from "../common-schemas.js";
import type { ServerDeps } from "../server-deps.js";

export function targetRoutes(server: FastifyInstance, { targets }: ServerDeps): void {
  const app = server.withTypeProvider<ZodTypeProvider>();
  const tags = ["targets"];

  app.post(
    "/v1/targets/postgres",
    {
      schema: {
        tags,
        operationId: "createPostgresTarget",
        summary: "Register a Postgres target (the connection is tried first)",
        description:
          "A target that cannot be reached or logged into is refused with 422 target_unreachable and the " +
          "database's reason. The password is encrypted at rest and never returned.",
        body: newTargetSchema,
        response: { 201: targetSchema, ...errorResponses, ...targetUnreachableResponse },
      },
    },
    async (request, reply) => reply.code(201).send(await targets.create(request.body)),
  );

  app.get(
    "/v1/targets/postgres",
    {
      schema: {
        tags,
        operationId: "listPostgresTargets",
        summary: "List Postgres targets",
        response: { 200: listOf(targetSchema), ...errorResponses },
      },
    },
    async () => ({ data: await targets.list() }),
  );

  app.get(
    "/v1/targets/postgres/:id",
    {
      schema: {
        tags,
        operationId: "getPostgresTarget",
        summary: "Get a Postgres target",
        params: idParamsSchema,
        response: { 200: targetSchema, ...errorResponses },
      },
    },
    async (request) => targets.get(request.params.id),
  );

  app.patch(
    "/v1/targets/postgres/:id",
    {
      schema: {
        tags,
        operationId: "updatePostgresTarget",
        summary: "Rename a target or change its connection (a changed connection is tried first)",
        description:
          "Connection fields not given keep their value; the password stays unless a new one is given.",
        params: idParamsSchema,
        body: targetPatchSchema,
        response: { 200: targetSchema, ...errorResponses, ...targetUnreachableResponse },
      },
    },
    async (request) => targets.update(request.params.id, request.body),
  );

  app.delete(
    "/v1/targets/postgres/:id",
    {
      schema: {
        tags,
        operationId: "deletePostgresTarget",
        summary: "Delete a target that no consumer uses (409 otherwise)",
        params: idParamsSchema,
        response: { 204: noContent, ...errorResponses },
      },
    },
    async (request, reply) => {
      await targets.delete(request.params.id);
      return reply.code(204).send();
    },
  );

  app.post(
    "/v1/targets/postgres/:id/test",
    {
      schema: {
        tags,
        operationId: "testPostgresTarget",
        summary: "Connect to the target now and run `select 1`",
        description: "Answers 200 either way: `ok` false with the database's reason in `error`.",
        params: idParamsSchema,
        response: { 200: connectionTestSchema, ...errorResponses },
      },
    },
    async (request) => targets.test(request.params.id),
  );
}
