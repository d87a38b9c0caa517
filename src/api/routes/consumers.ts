/** Postgres consumers: `/v1/consumers/postgres…`: define, verify the table, start, pause, resume. */
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import {
  consumerPatchSchema,
  consumerSchema,
  consumerStates,
  newConsumerSchema,
  verifyResultSchema,
} from "../../consumer/index.js";
import {
  errorResponse,
  errorResponses,
  idParamsSchema,
  listOf,
  noContent,
  targetUnreachableResponse,
} from "../common-schemas.js";
import type { ServerDeps } from "../server-deps.js";

const consumerEventSchema = z
  .object({
    at: z.string(),
    from_state: z.enum(consumerStates),
    to_state: z.enum(consumerStates),
    note: z.string().nullable(),
  })
  .meta({ id: "ConsumerEvent", description: "one lifecycle transition" });

const eventsQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(1000).optional().describe("newest first; default 50"),
});

const startResponses = {
  409: errorResponse(
    "table_invalid: the table does not match the contract; `problems` lists each difference with its fix_sql " +
      "(or conflict: the consumer cannot be started from its state)",
  ),
};

export function consumerRoutes(server: FastifyInstance, { consumers }: ServerDeps): void {
  const app = server.withTypeProvider<ZodTypeProvider>();
  const tags = ["consumers"];

  app.post(
    "/v1/consumers/postgres",
    {
      schema: {
        tags,
        operationId: "createPostgresConsumer",
        summary: "Define a consumer (inactive until started); the answer holds its create_table_sql",
        body: newConsumerSchema,
        response: { 201: consumerSchema, ...errorResponses },
      },
    },
    async (request, reply) => reply.code(201).send(await consumers.create(request.body)),
  );

  app.get(
    "/v1/consumers/postgres",
    {
      schema: {
        tags,
        operationId: "listPostgresConsumers",
        summary: "List consumers with their state, health, lag and stats",
        response: { 200: listOf(consumerSchema), ...errorResponses },
      },
    },
    async () => ({ data: await consumers.list() }),
  );

  app.get(
    "/v1/consumers/postgres/:id",
    {
      schema: {
        tags,
        operationId: "getPostgresConsumer",
        summary: "Get a consumer with its state, health, lag and stats",
        params: idParamsSchema,
        response: { 200: consumerSchema, ...errorResponses },
      },
    },
    async (request) => consumers.get(request.params.id),
  );

  app.patch(
    "/v1/consumers/postgres/:id",
    {
      schema: {
        tags,
        operationId: "updatePostgresConsumer",
        summary: "Change a consumer",
        description:
          "Changing the target, filter or table forwards the stream again from its beginning into the new table.",
        params: idParamsSchema,
        body: consumerPatchSchema,
        response: { 200: consumerSchema, ...errorResponses },
      },
    },
    async (request) => consumers.update(request.params.id, request.body),
  );

  app.delete(
    "/v1/consumers/postgres/:id",
    {
      schema: {
        tags,
        operationId: "deletePostgresConsumer",
        summary: "Delete a consumer (its table and rows stay)",
        params: idParamsSchema,
        response: { 204: noContent, ...errorResponses },
      },
    },
    async (request, reply) => {
      await consumers.delete(request.params.id);
      return reply.code(204).send();
    },
  );

  app.post(
    "/v1/consumers/postgres/:id/verify",
    {
      schema: {
        tags,
        operationId: "verifyPostgresConsumer",
        summary: "Compare the consumer's table with the contract",
        description:
          "Connects as the target's user. `problems` stop a start; `warnings` (constraints, triggers) may make writes fail later.",
        params: idParamsSchema,
        response: { 200: verifyResultSchema, ...errorResponses, ...targetUnreachableResponse },
      },
    },
    async (request) => consumers.verify(request.params.id),
  );

  app.post(
    "/v1/consumers/postgres/:id/start",
    {
      schema: {
        tags,
        operationId: "startPostgresConsumer",
        summary: "Verify the table, then start: backfilling, then live",
        description: "A consumer already running is answered as it is.",
        params: idParamsSchema,
        response: {
          200: consumerSchema,
          ...errorResponses,
          ...startResponses,
          ...targetUnreachableResponse,
        },
      },
    },
    async (request) => consumers.start(request.params.id),
  );

  app.post(
    "/v1/consumers/postgres/:id/pause",
    {
      schema: {
        tags,
        operationId: "pausePostgresConsumer",
        summary: "Pause a consumer (it stays healthy, with a note; no lag alerts)",
        params: idParamsSchema,
        response: { 200: consumerSchema, ...errorResponses },
      },
    },
    async (request) => consumers.pause(request.params.id),
  );

  app.post(
    "/v1/consumers/postgres/:id/resume",
    {
      schema: {
        tags,
        operationId: "resumePostgresConsumer",
        summary: "Resume a paused consumer from its position",
        params: idParamsSchema,
        response: { 200: consumerSchema, ...errorResponses },
      },
    },
    async (request) => consumers.resume(request.params.id),
  );

  app.post(
    "/v1/consumers/postgres/:id/backfill",
    {
      schema: {
        tags,
        operationId: "backfillPostgresConsumer",
        summary: "Rewrite the consumer's table from the stream, while live changes keep flowing",
        description:
          "Every record of the stream is written again and rows no longer in the stream are deleted; progress in `backfill`. A consumer does this by itself when it finds its table dropped and created again, or emptied.",
        params: idParamsSchema,
        response: { 202: consumerSchema, ...errorResponses },
      },
    },
    async (request, reply) => reply.code(202).send(await consumers.backfill(request.params.id)),
  );

  app.post(
    "/v1/consumers/postgres/:id/retry",
    {
      schema: {
        tags,
        operationId: "retryPostgresConsumer",
        summary:
          "Retry now: a failing consumer retries its write, a waiting one probes its target, without waiting for its backoff",
        params: idParamsSchema,
        response: { 200: consumerSchema, ...errorResponses },
      },
    },
    async (request) => consumers.retry(request.params.id),
  );

  app.get(
    "/v1/consumers/postgres/:id/events",
    {
      schema: {
        tags,
        operationId: "listPostgresConsumerEvents",
        summary: "The consumer's lifecycle transitions, newest first",
        params: idParamsSchema,
        querystring: eventsQuerySchema,
        response: { 200: listOf(consumerEventSchema), ...errorResponses },
      },
    },
    async (request) => {
      const events = await consumers.events(request.params.id, request.query.limit);
      return {
        data: events.map((e) => ({
          at: e.at.toISOString(),
          from_state: e.from_state,
          to_state: e.to_state,
          note: e.note,
        })),
      };
    },
  );
}
