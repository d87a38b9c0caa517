-- Record streams: syncs and the newest version of each of their records.
--
-- Each record is ONE row holding its newest version (or a tombstone). Every change moves the row to a new
-- stream position: a fresh (txid, position) pair, where txid is the writing transaction's id (xid8) and
-- position comes from a sequence. Readers follow (txid, position) and only read rows whose txid is below
-- the oldest transaction still running (pg_snapshot_xmin), so a change that commits late can never land
-- behind a reader's cursor. See docs/streams.md.

create table sequin_syncs (
  id uuid primary key,
  name text not null,
  provider text not null,
  collections text[] not null default '{}',
  removed_collections text[] not null default '{}',
  external_id text,
  metadata jsonb not null default '{}',
  inserted_at timestamptz not null default now()
);

create unique index sequin_syncs_name on sequin_syncs (name);
create index sequin_syncs_provider on sequin_syncs (provider);

create sequence sequin_record_position as bigint;

create table sequin_records (
  -- uuid v5 of (sync_id, collection_id, upstream_id): the same key always has the same id.
  sequin_id uuid primary key,
  sync_id uuid not null references sequin_syncs (id) on delete cascade,
  provider text not null,
  collection_id text not null,
  upstream_id text not null,
  payload jsonb,
  upstream_updated_at timestamptz not null,
  deleted boolean not null default false,
  txid xid8 not null default pg_current_xact_id(),
  position bigint not null default nextval('sequin_record_position'),
  -- when this version entered the stream; lag is measured from it.
  changed_at timestamptz not null default now(),
  constraint sequin_records_tombstone check (deleted or payload is not null)
);

create index sequin_records_stream on sequin_records (txid, position);
create index sequin_records_by_provider on sequin_records (provider, txid, position);
create index sequin_records_by_sync on sequin_records (sync_id, txid, position);

create table sequin_api_tokens (
  id uuid primary key,
  name text not null,
  token_sha256 bytea not null unique,
  inserted_at timestamptz not null default now()
);

create table sequin_settings (
  key text primary key,
  value jsonb not null
);
