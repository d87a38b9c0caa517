/** Syncs and their record streams: `/v1/syncs…`. */
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import {
  createSync,
  deleteSync,
  getSync,
  ingest,
  ingestBodySchema,
  ingestResultSchema,
  listSyncs,
  lookupRecords,
  newSyncSchema,
  recordLookupQuerySchema,
  removeCollection,
  streamRecordSchema,
  syncPatchSchema,
  syncSchema,
  updateSync,
} from "../../stream/index.js";
import { errorResponses, idParamsSchema, listOf, noContent, uuidParam } from "../common-schemas.js";
import type { ServerDeps } from "../server-deps.js";

const collectionParamsSchema = z.object({
  id: uuidParam("id"),
  collection_id: z.string().min(1, "collection_id must not be empty").max(255),
});

export function syncRoutes(server: FastifyInstance, { pool, metrics }: ServerDeps): void {
  const app = server.withTypeProvider<ZodTypeProvider>();
  const tags = ["syncs"];

  app.post(
    "/v1/syncs",
    {
      schema: {
        tags,
        operationId: "createSync",
        summary: "Create a sync (an account of one provider)",
        body: newSyncSchema,
        response: { 201: syncSchema, ...errorResponses },
      },
    },
    async (request, reply) => reply.code(201).send(await createSync(pool, request.body)),
  );

  app.get(
    "/v1/syncs",
    {
      schema: {
        tags,
        operationId: "listSyncs",
        summary: "List syncs",
        response: { 200: listOf(syncSchema), ...errorResponses },
      },
    },
    async () => ({ data: await listSyncs(pool) }),
  );

  app.get(
    "/v1/syncs/:id",
    {
      schema: {
        tags,
        operationId: "getSync",
        summary: "Get a sync",
        params: idParamsSchema,
        response: { 200: syncSchema, ...errorResponses },
      },
    },
    async (request) => getSync(pool, request.params.id),
  );

  app.patch(
    "/v1/syncs/:id",
    {
      schema: {
        tags,
        operationId: "updateSync",
        summary: "Change a sync's name, collections, external id or metadata",
        params: idParamsSchema,
        body: syncPatchSchema,
        response: { 200: syncSchema, ...errorResponses },
      },
    },
    async (request) => updateSync(pool, request.params.id, request.body),
  );

  app.delete(
    "/v1/syncs/:id",
    {
      schema: {
        tags,
        operationId: "deleteSync",
        summary: "Delete a sync and its stream (rows already in targets stay)",
        params: idParamsSchema,
        response: { 204: noContent, ...errorResponses },
      },
    },
    async (request, reply) => {
      await deleteSync(pool, request.params.id);
      return reply.code(204).send();
    },
  );

  app.delete(
    "/v1/syncs/:id/collections/:collection_id",
    {
      schema: {
        tags,
        operationId: "removeSyncCollection",
        summary: "Stop forwarding one collection of a sync (rows already in targets stay)",
        params: collectionParamsSchema,
        response: { 204: noContent, ...errorResponses },
      },
    },
    async (request, reply) => {
      await removeCollection(pool, request.params.id, request.params.collection_id);
      return reply.code(204).send();
    },
  );

  app.post(
    "/v1/syncs/:id/records",
    {
      schema: {
        tags,
        operationId: "ingestRecords",
        summary: "Write records into a sync's stream (all or nothing)",
        description:
          "One invalid record refuses the whole request; validation_errors names it as records[i].field. " +
          "A version older than the stored one is counted as stale and changes nothing.",
        params: idParamsSchema,
        body: ingestBodySchema,
        response: { 200: ingestResultSchema, ...errorResponses },
      },
    },
    async (request) => {
      const result = await ingest(pool, request.params.id, request.body.records, { validated: true });
      metrics.ingest(result);
      return result;
    },
  );

  app.get(
    "/v1/syncs/:id/records",
    {
      schema: {
        tags,
        operationId: "lookupRecords",
        summary: "Look up records of a sync's stream",
        params: idParamsSchema,
        querystring: recordLookupQuerySchema,
        response: { 200: listOf(streamRecordSchema), ...errorResponses },
      },
    },
    async (request) => ({ data: await lookupRecords(pool, request.params.id, request.query) }),
  );
}
