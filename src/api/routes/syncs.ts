/** Syncs and their record streams: `/v1/syncs…`. */
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { withTransaction } from "../../db/transaction.js";
import { sourceInputSchema, sourcePatchSchema, sourceViewSchema } from "../../sources/index.js";
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
  type Sync,
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

/** A new sync may carry a source: the service then pulls the provider's API into the stream itself. */
export const newSyncBodySchema = z.strictObject({
  ...newSyncSchema.shape,
  source: sourceInputSchema
    .optional()
    .describe("pull the provider's API (stripe); without it, records are pushed through /records"),
});

const syncPatchBodySchema = z.strictObject({
  ...syncPatchSchema.shape,
  source: sourcePatchSchema.optional().describe("change the sync's source: any of its fields"),
});

/** A sync as the API shows it: with its source (credentials never shown) when the service pulls it. */
const syncViewSchema = z
  .object({ ...syncSchema.shape, source: sourceViewSchema.optional() })
  .meta({ id: "Sync" });

export type NewSyncBody = z.infer<typeof newSyncBodySchema>;

/** The worker (when this process runs one) picks a change up now instead of at its next tick. */
function pokeSources(deps: ServerDeps): void {
  deps.sourceWorker?.poke().catch(() => {});
}

/**
 * Creates a sync, with its source when it has one (the credential tried first): the API's POST /v1/syncs
 * and the console's add-sync form both come here.
 */
export async function createSyncFromBody(deps: ServerDeps, body: NewSyncBody): Promise<Sync> {
  const { source, ...fields } = body;
  if (!source) return createSync(deps.pool, fields);
  const prepared = await deps.sources.prepare(fields.provider, fields.collections, source);
  const sync = await withTransaction(deps.pool, async (client) => {
    const created = await createSync(client, { ...fields, collections: prepared.collections });
    await deps.sources.insert(client, created.id, prepared);
    return created;
  });
  pokeSources(deps);
  return sync;
}

/** Pause, resume or read everything again: the API's POST /v1/syncs/{id}/… and the console's buttons. */
export async function syncSourceAction(
  deps: ServerDeps,
  id: string,
  action: "pause" | "resume" | "backfill",
): Promise<Sync> {
  const sync = await getSync(deps.pool, id);
  if (action === "backfill") await deps.sources.rebackfill(id);
  else await deps.sources.setDesired(id, action === "pause" ? "paused" : "active");
  pokeSources(deps);
  return sync;
}

export function syncRoutes(server: FastifyInstance, deps: ServerDeps): void {
  const { pool, metrics, sources } = deps;
  const app = server.withTypeProvider<ZodTypeProvider>();
  const tags = ["syncs"];

  const withSources = async <S extends { id: string }>(syncs: S[]) => {
    const views = await sources.views(syncs.map((s) => s.id));
    return syncs.map((sync) => {
      const source = views.get(sync.id);
      return source ? { ...sync, source } : sync;
    });
  };
  const withSource = async <S extends { id: string }>(sync: S) => (await withSources([sync]))[0]!;

  app.post(
    "/v1/syncs",
    {
      schema: {
        tags,
        operationId: "createSync",
        summary: "Create a sync (an account of one provider)",
        description:
          "With `source`, the credential is tried first: a refusal is 422 provider_refused with the provider's reason.",
        body: newSyncBodySchema,
        response: { 201: syncViewSchema, ...errorResponses },
      },
    },
    async (request, reply) =>
      reply.code(201).send(await withSource(await createSyncFromBody(deps, request.body))),
  );

  app.get(
    "/v1/syncs",
    {
      schema: {
        tags,
        operationId: "listSyncs",
        summary: "List syncs",
        response: { 200: listOf(syncViewSchema), ...errorResponses },
      },
    },
    async () => ({ data: await withSources(await listSyncs(pool)) }),
  );

  app.get(
    "/v1/syncs/:id",
    {
      schema: {
        tags,
        operationId: "getSync",
        summary: "Get a sync",
        params: idParamsSchema,
        response: { 200: syncViewSchema, ...errorResponses },
      },
    },
    async (request) => withSource(await getSync(pool, request.params.id)),
  );

  app.patch(
    "/v1/syncs/:id",
    {
      schema: {
        tags,
        operationId: "updateSync",
        summary: "Change a sync's name, collections, external id, metadata or source",
        description:
          "A new credential or base_url in `source` is tried first: a refusal is 422 provider_refused and changes nothing.",
        params: idParamsSchema,
        body: syncPatchBodySchema,
        response: { 200: syncViewSchema, ...errorResponses },
      },
    },
    async (request) => {
      const { source, ...fields } = request.body;
      const id = request.params.id;
      if (source) {
        await getSync(pool, id);
        await sources.update(id, source, fields.collections);
      }
      if (fields.collections) await sources.collectionsChanging(id, fields.collections);
      const sync = await updateSync(pool, id, fields);
      if (source || fields.collections) pokeSources(deps);
      return withSource(sync);
    },
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

  for (const [action, summary] of [
    ["pause", "Stop pulling the sync's provider (its stream and position stay)"],
    ["resume", "Pull the sync's provider again, from where it stopped"],
    ["backfill", "Read everything from the provider again; at the end, what no longer exists is deleted"],
  ] as const) {
    app.post(
      `/v1/syncs/:id/${action}`,
      {
        schema: {
          tags,
          operationId: `${action}SyncSource`,
          summary,
          params: idParamsSchema,
          response: { 200: syncViewSchema, 202: syncViewSchema, ...errorResponses },
        },
      },
      async (request, reply) => {
        const sync = await syncSourceAction(deps, request.params.id, action);
        return reply.code(action === "backfill" ? 202 : 200).send(await withSource(sync));
      },
    );
  }

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
