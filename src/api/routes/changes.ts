/** The changes feed: `GET /v1/changes`, the stream itself for users who build their own consumer. */
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { validationError } from "../../errors.js";
import {
  ChangesFeed,
  defaultFeedLimit,
  maxFeedLimit,
  maxFeedWaitMs,
  type StreamFilter,
  streamRecordSchema,
} from "../../stream/index.js";
import { errorResponses, uuidParam } from "../common-schemas.js";
import type { ServerDeps } from "../server-deps.js";

const changesQuerySchema = z.strictObject({
  sync_id: uuidParam("sync_id").optional().describe("the changes of this sync (or give provider)"),
  provider: z
    .string()
    .min(1, "provider must not be empty")
    .max(255, "provider must be at most 255 characters")
    .optional()
    .describe("the changes of every sync of this provider, later ones included (or give sync_id)"),
  collection_id: z
    .string()
    .min(1, "collection_id must not be empty")
    .max(255, "collection_id must be at most 255 characters")
    .optional()
    .describe("only this collection's changes"),
  after: z
    .string()
    .min(1, "after must not be empty: leave it out to start at the beginning")
    .max(200, "after must be at most 200 characters: pass the `next` of a previous answer unchanged")
    .optional()
    .describe("the `next` of a previous answer; without it, the feed starts at the beginning of the stream"),
  limit: z.coerce
    .number("limit must be a number")
    .int("limit must be a whole number")
    .min(1, "limit must be at least 1")
    .max(maxFeedLimit, `limit must be at most ${maxFeedLimit}`)
    .optional()
    .describe(`changes per answer, at most; default ${defaultFeedLimit}`),
  wait_ms: z.coerce
    .number("wait_ms must be a number")
    .int("wait_ms must be a whole number")
    .min(0, "wait_ms must be at least 0")
    .max(maxFeedWaitMs, `wait_ms must be at most ${maxFeedWaitMs}`)
    .optional()
    .describe("when no change is there yet, wait up to this long for one (long poll); default 0"),
});

const changesPageSchema = z
  .object({
    data: z.array(streamRecordSchema).describe("changes in stream order; a deleted record has payload null"),
    next: z.string().describe("the cursor to pass as `after` next time (store it with what you applied)"),
  })
  .meta({ id: "ChangesPage" });

type ChangesQuery = z.infer<typeof changesQuerySchema>;

/** sync_id or provider, exactly one: checked here because a refinement would hide the fields from OpenAPI. */
function filterOf(query: ChangesQuery): StreamFilter {
  if (query.sync_id !== undefined && query.provider !== undefined) {
    throw validationError(
      { sync_id: ["give sync_id or provider, not both"] },
      "invalid query parameter sync_id: give sync_id or provider, not both",
    );
  }
  if (query.sync_id !== undefined) return { syncId: query.sync_id };
  if (query.provider !== undefined) return { provider: query.provider };
  throw validationError(
    { sync_id: ["give sync_id or provider: the feed reads one sync or every sync of one provider"] },
    "invalid query parameter sync_id: give sync_id or provider: the feed reads one sync or every sync of one provider",
  );
}

export function changesRoutes(server: FastifyInstance, deps: ServerDeps): void {
  const app = server.withTypeProvider<ZodTypeProvider>();
  const feed = new ChangesFeed(deps.pool, { listenUrl: deps.pool.options.connectionString });
  // long polls answer at once when the server closes, instead of holding its shutdown up to wait_ms
  app.addHook("preClose", () => feed.stop());

  app.get(
    "/v1/changes",
    {
      schema: {
        tags: ["syncs"],
        operationId: "readChanges",
        summary: "Read the stream's changes after a cursor (build your own consumer)",
        description:
          "Changes of one sync or of every sync of one provider, in stream order, the newest version of each " +
          "record, deletes included; a change that commits late is never skipped. Store `next` with what you " +
          "applied and pass it as `after`. With `wait_ms`, an answer with no change waits for one. A cursor from " +
          "another filter or another store is refused (400 naming `after`). See docs/changes-feed.md.",
        querystring: changesQuerySchema,
        response: { 200: changesPageSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const query = request.query;
      const filter = filterOf(query);
      // the client went away (a restart, a timeout of its own): its wait ends
      const gone = new AbortController();
      const onClose = () => gone.abort();
      reply.raw.once("close", onClose);
      try {
        const page = await feed.read({
          filter,
          collectionId: query.collection_id,
          after: query.after,
          limit: query.limit,
          waitMs: query.wait_ms,
          signal: gone.signal,
        });
        // a long poll cut short by shutdown: its keep-alive connection would hold the server's close open
        if (feed.stopped) reply.header("connection", "close");
        return page;
      } finally {
        reply.raw.off("close", onClose);
      }
    },
  );
}
