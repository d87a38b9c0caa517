/** SQL run on the target for typed views: counting what a collection's payloads hold, and applying a view. */
import type pg from "pg";
import { qualifiedName, type TableName } from "../targets/postgres/index.js";
import {
  booleanPattern,
  datePattern,
  epochMillisecondsPattern,
  epochSecondsPattern,
  integerPattern,
  localTimestampPattern,
  numberMaxLength,
  numberPattern,
  zonedTimestampPattern,
} from "./value-guards.js";
import type { PathCounts } from "./view-inference.js";

export interface PayloadCounts {
  /** Rows sampled. */
  sampled: number;
  paths: PathCounts[];
}

/** Every payload key and every key of a first-level object, with what its values fit, over one sample. */
function payloadCountsSql(table: TableName): string {
  const objectPayload = "case when jsonb_typeof(payload) = 'object' then payload else '{}'::jsonb end";
  return `with sample as (
  select payload from ${qualifiedName(table)}
  where collection_id = $1
  order by upstream_updated_at desc
  limit $2
),
entries as (
  select array[top.key] as path, top.value
  from sample, jsonb_each(${objectPayload}) top
  union all
  select array[top.key, child.key], child.value
  from sample, jsonb_each(${objectPayload}) top, jsonb_each(top.value) child
  where jsonb_typeof(top.value) = 'object'
),
typed as (
  select path, jsonb_typeof(value) as kind,
    case when jsonb_typeof(value) in ('string', 'number', 'boolean') then value #>> '{}' end as t
  from entries
),
counts as (
  select path,
    count(*) filter (where kind <> 'null') as "present",
    count(*) filter (where t = '') as "empty",
    count(*) filter (where kind = 'object') as "objects",
    count(*) filter (where kind = 'array') as "arrays",
    count(*) filter (where t ~ $3) as "booleans",
    count(*) filter (where t ~ $4) as "integers",
    count(*) filter (where t ~ $5 and length(t) <= ${numberMaxLength}) as "numbers",
    count(*) filter (where t ~ $6) as "dates",
    count(*) filter (where t ~ $7 or t ~ $8) as "timestamps",
    count(*) filter (where t ~ $9) as "epochMilliseconds",
    count(*) filter (where kind = 'number' and t ~ $10) as "epochSeconds"
  from typed
  group by path
)
select (select count(*) from sample)::int as sampled,
  coalesce((select json_agg(counts) from counts), '[]'::json) as paths`;
}

/** Counts over the newest `sample` rows of the collection (by upstream_updated_at). */
export async function countPayloads(
  client: pg.ClientBase,
  table: TableName,
  collectionId: string,
  sample: number,
): Promise<PayloadCounts> {
  const result = await client.query<PayloadCounts>(payloadCountsSql(table), [
    collectionId,
    sample,
    booleanPattern,
    integerPattern,
    numberPattern,
    datePattern,
    zonedTimestampPattern,
    localTimestampPattern,
    epochMillisecondsPattern,
    epochSecondsPattern,
  ]);
  return result.rows[0]!;
}

/** Rows looked at to name the collections a table holds (a bounded read, whatever the table's size). */
export const collectionScanRows = 10_000;

/** The collections among the table's first rows, most frequent first, at most 20. */
export async function selectSomeCollections(client: pg.ClientBase, table: TableName): Promise<string[]> {
  const result = await client.query<{ collection_id: string }>(
    `select collection_id from (select collection_id from ${qualifiedName(table)} limit $1) some_rows
     group by collection_id order by count(*) desc, collection_id limit 20`,
    [collectionScanRows],
  );
  return result.rows.map((r) => r.collection_id);
}

export async function runViewSql(client: pg.ClientBase, sql: string): Promise<void> {
  await client.query(sql);
}

export async function selectCurrentUser(client: pg.ClientBase): Promise<string> {
  const result = await client.query<{ user: string }>("select current_user as user");
  return result.rows[0]!.user;
}
