/** Catalog queries describing a live target table, as seen by the connecting user. */
import type pg from "pg";

export interface SessionFacts {
  user: string;
  database: string;
  canCreateTemp: boolean;
}

export async function sessionFacts(client: pg.ClientBase): Promise<SessionFacts> {
  const { rows } = await client.query<SessionFacts>(
    `select current_user as "user", current_database() as database,
            has_database_privilege(current_user, current_database(), 'TEMPORARY') as "canCreateTemp"`,
  );
  return rows[0]!;
}

export interface SchemaFacts {
  oid: number;
  canUse: boolean;
}

export async function schemaFacts(client: pg.ClientBase, schema: string): Promise<SchemaFacts | undefined> {
  const { rows } = await client.query<SchemaFacts>(
    `select oid, has_schema_privilege(current_user, oid, 'USAGE') as "canUse"
       from pg_namespace where nspname = $1`,
    [schema],
  );
  return rows[0];
}

export interface RelationFacts {
  oid: number;
  /** pg_class.relkind: r table, p partitioned table, v view, … */
  kind: string;
  privileges: { select: boolean; insert: boolean; update: boolean; delete: boolean };
}

export async function relationFacts(
  client: pg.ClientBase,
  schemaOid: number,
  name: string,
): Promise<RelationFacts | undefined> {
  const { rows } = await client.query(
    `select oid, relkind as kind,
            has_table_privilege(current_user, oid, 'SELECT') as select,
            has_table_privilege(current_user, oid, 'INSERT') as insert,
            has_table_privilege(current_user, oid, 'UPDATE') as update,
            has_table_privilege(current_user, oid, 'DELETE') as delete
       from pg_class where relnamespace = $1 and relname = $2`,
    [schemaOid, name],
  );
  const row = rows[0];
  if (!row) return undefined;
  const { oid, kind, ...privileges } = row;
  return { oid, kind, privileges };
}

export interface ColumnFacts {
  name: string;
  /** format_type(), e.g. `jsonb`, `timestamp with time zone`, `character varying(255)`. */
  type: string;
  notNull: boolean;
  /** Filled by the server when an insert leaves it out: a default, generated or identity column. */
  filledByServer: boolean;
}

export async function columnFacts(client: pg.ClientBase, tableOid: number): Promise<ColumnFacts[]> {
  const { rows } = await client.query<ColumnFacts>(
    `select attname::text as name, format_type(atttypid, atttypmod) as type, attnotnull as "notNull",
            (atthasdef or attgenerated <> '' or attidentity <> '') as "filledByServer"
       from pg_attribute
      where attrelid = $1 and attnum > 0 and not attisdropped
      order by attnum`,
    [tableOid],
  );
  return rows;
}

export interface ConstraintFacts {
  name: string;
  /** pg_constraint.contype: p primary key, u unique, c check, x exclusion, f foreign key, t trigger. */
  type: string;
  definition: string;
  columns: string[];
  /** The table the constraint is declared on: the target table, or one whose foreign key references it. */
  tableSchema: string;
  tableName: string;
}

/** Constraints on the table (not-null ones aside) and foreign keys of other tables referencing it. */
export async function constraintFacts(client: pg.ClientBase, tableOid: number): Promise<ConstraintFacts[]> {
  const { rows } = await client.query<ConstraintFacts>(
    `select con.conname::text as name, con.contype::text as type,
            pg_get_constraintdef(con.oid) as definition,
            array(select a.attname::text
                    from unnest(con.conkey) with ordinality as k(attnum, n)
                    join pg_attribute a on a.attrelid = con.conrelid and a.attnum = k.attnum
                   order by k.n) as columns,
            n.nspname::text as "tableSchema", c.relname::text as "tableName"
       from pg_constraint con
       join pg_class c on c.oid = con.conrelid
       join pg_namespace n on n.oid = c.relnamespace
      where (con.conrelid = $1 and con.contype <> 'n') or (con.confrelid = $1 and con.contype = 'f')
      order by con.conname`,
    [tableOid],
  );
  return rows;
}

export interface IndexFacts {
  name: string;
  definition: string;
}

/** Unique indexes that back no constraint (`create unique index …`). */
export async function standaloneUniqueIndexes(
  client: pg.ClientBase,
  tableOid: number,
): Promise<IndexFacts[]> {
  const { rows } = await client.query<IndexFacts>(
    `select c.relname::text as name, pg_get_indexdef(i.indexrelid) as definition
       from pg_index i join pg_class c on c.oid = i.indexrelid
      where i.indrelid = $1 and i.indisunique
        and not exists (select 1 from pg_constraint con where con.conindid = i.indexrelid and con.conrelid = $1)
      order by c.relname`,
    [tableOid],
  );
  return rows;
}

export interface TriggerFacts {
  name: string;
  definition: string;
}

/** Triggers users created (internal ones, e.g. of foreign keys, aside). */
export async function userTriggers(client: pg.ClientBase, tableOid: number): Promise<TriggerFacts[]> {
  const { rows } = await client.query<TriggerFacts>(
    `select tgname::text as name, pg_get_triggerdef(oid) as definition
       from pg_trigger where tgrelid = $1 and not tgisinternal
      order by tgname`,
    [tableOid],
  );
  return rows;
}
