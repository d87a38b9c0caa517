-- Syncs that pull: a sync with a source is filled by the service itself from its provider's API.
--
-- sequin_sources: one row per sourced sync. The credential is sealed by the vault. `change_cursor` is the
-- source's own position in its provider's change feed (Stripe: the last event applied), opaque here; it is
-- taken BEFORE the first page of a backfill, so nothing changed while the backfill ran is lost. `rebackfill`
-- says why everything is read again (the change feed's horizon passed, or a user asked), until it ends.
--
-- sequin_source_collections: one row per collection pulled: its backfill (page token, objects fetched, done),
-- and when its changes were last polled. Records and these positions commit in ONE store transaction.
--
-- sequin_source_seen: during a re-backfill, the ids read so far; at its end, records of the collection that
-- were not read again are deleted from the stream (they no longer exist upstream).
create table sequin_sources (
  sync_id                 uuid        primary key references sequin_syncs (id) on delete cascade,
  provider                text        not null,
  credentials_encrypted   bytea       not null,
  settings                jsonb       not null default '{}',
  base_url                text        not null,
  max_requests_per_second double precision not null,
  poll_interval_seconds   double precision not null,
  desired                 text        not null default 'active' check (desired in ('active', 'paused')),
  change_cursor           jsonb,
  rebackfill              text,
  last_error              jsonb,
  failing_since           timestamptz,
  requests                bigint      not null default 0,
  throttled               bigint      not null default 0,
  inserted_at             timestamptz not null default now(),
  updated_at              timestamptz not null default now()
);

create table sequin_source_collections (
  sync_id           uuid    not null references sequin_sources (sync_id) on delete cascade,
  collection_id     text    not null,
  backfill_token    text,
  backfill_done     boolean not null default false,
  fetched           bigint  not null default 0,
  last_polled_at    timestamptz,
  primary key (sync_id, collection_id)
);

create table sequin_source_seen (
  sync_id       uuid not null references sequin_sources (sync_id) on delete cascade,
  collection_id text not null,
  upstream_id   text not null,
  primary key (sync_id, collection_id, upstream_id)
);
