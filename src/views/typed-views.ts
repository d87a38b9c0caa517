/**
 * Typed views of a consumer's table: sample one collection's rows in the target, infer a column per payload
 * key, write the `create or replace view` statement, and run it when asked to.
 */
import type pg from "pg";
import { validationError } from "../errors.js";
import type { TableName } from "../targets/postgres/index.js";
import { defaultViewName } from "./column-names.js";
import { applyRefused, readRefused, unreachable } from "./view-errors.js";
import { inferColumns } from "./view-inference.js";
import { defaultSampleRows } from "./view-limits.js";
import { countPayloads, runViewSql, selectCurrentUser, selectSomeCollections } from "./view-queries.js";
import type { GeneratedView, ViewRequest } from "./view-schemas.js";
import { createViewSql } from "./view-sql.js";

export interface TypedViewsDeps {
  /** The consumer's target and table; throws not_found for an unknown consumer. */
  consumer(id: string): Promise<{ target_id: string; table: TableName }>;
  connect(targetId: string): Promise<pg.Client>;
}

export class TypedViews {
  constructor(private readonly deps: TypedViewsDeps) {}

  async generate(
    consumerId: string,
    request: ViewRequest,
    options: { apply?: boolean } = {},
  ): Promise<GeneratedView> {
    const consumer = await this.deps.consumer(consumerId);
    const table = consumer.table;
    const view = {
      schema: table.schema,
      name: request.name ?? defaultViewName(table.name, request.collection_id),
    };
    if (view.name === table.name) {
      throw validationError({
        name: [`${view.name} is the consumer's table: choose another name for the view`],
      });
    }
    let client: pg.Client;
    try {
      client = await this.deps.connect(consumer.target_id);
    } catch (error) {
      throw unreachable(error);
    }
    try {
      const counts = await countPayloads(
        client,
        table,
        request.collection_id,
        request.sample ?? defaultSampleRows,
      ).catch(async (error) => {
        throw readRefused(error, table, await selectCurrentUser(client).catch(() => undefined));
      });
      if (counts.sampled === 0) await this.noSuchCollection(client, table, request.collection_id);
      const columns = inferColumns(counts.paths, counts.sampled);
      const sql = createViewSql({ view, table, collectionId: request.collection_id, columns });
      if (options.apply) {
        await runViewSql(client, sql).catch(async (error) => {
          throw applyRefused(error, view, await selectCurrentUser(client).catch(() => undefined));
        });
      }
      return {
        sql,
        columns: columns.map(({ name, type, source_path, nullable, sample_errors }) => ({
          name,
          type,
          source_path,
          nullable,
          sample_errors,
        })),
        view,
        sampled_rows: counts.sampled,
        applied: options.apply === true,
      };
    } finally {
      await client.end().catch(() => {});
    }
  }

  private async noSuchCollection(client: pg.Client, table: TableName, collectionId: string): Promise<never> {
    const seen = await selectSomeCollections(client, table).catch(() => []);
    const there =
      seen.length === 0
        ? "the table has no rows yet: generate views once the consumer has written some"
        : `collections there: ${seen.join(", ")}`;
    throw validationError({
      collection_id: [
        `table "${table.schema}"."${table.name}" holds no rows of collection ${JSON.stringify(collectionId)}, so there is nothing to infer types from; ${there}`,
      ],
    });
  }
}
