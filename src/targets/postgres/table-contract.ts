/** The target table every consumer writes to (docs/consumers.md, the table contract): column names, types, nullability, key. */

export interface ContractColumn {
  name: string;
  /** The type as the create-table statement spells it. */
  type: string;
  /** The type as `format_type()` reports it on a live table. */
  formatType: string;
}

export const contractColumns: readonly ContractColumn[] = [
  { name: "sequin_id", type: "uuid", formatType: "uuid" },
  { name: "sync_id", type: "uuid", formatType: "uuid" },
  { name: "collection_id", type: "text", formatType: "text" },
  { name: "upstream_id", type: "text", formatType: "text" },
  { name: "payload", type: "jsonb", formatType: "jsonb" },
  { name: "upstream_updated_at", type: "timestamptz", formatType: "timestamp with time zone" },
  { name: "inserted_at", type: "timestamptz", formatType: "timestamp with time zone" },
  { name: "updated_at", type: "timestamptz", formatType: "timestamp with time zone" },
];

/** Every contract column is `not null`; this one alone is the primary key. */
export const primaryKeyColumn = "sequin_id";
