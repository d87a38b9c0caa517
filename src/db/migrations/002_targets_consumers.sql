-- Postgres targets (the user's databases) and the consumers that forward streams into them.

create table sequin_targets (
  id uuid primary key,
  name text not null,
  host text not null,
  port int not null,
  database text not null,
  username text not null,
  ssl text not null default 'prefer' check (ssl in ('disable', 'prefer', 'require', 'verify-full')),
  -- AES-256-GCM with the vault key: never logged, never returned
  password_encrypted bytea not null,
  -- {host, port, username, host_key_fingerprint}; its private key and passphrase live encrypted below
  ssh_tunnel jsonb,
  ssh_secret_encrypted bytea,
  inserted_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create unique index sequin_targets_name on sequin_targets (name);

create table sequin_consumers (
  id uuid primary key,
  name text not null,
  target_id uuid not null references sequin_targets (id) on delete restrict,
  filter_provider text,
  filter_sync_id uuid,
  table_schema text not null,
  table_name text not null,
  -- what the user asked for: never started, running, or paused
  desired text not null default 'inactive' check (desired in ('inactive', 'active', 'paused')),
  -- what the runner is doing, written by the worker that owns the consumer
  state text not null default 'inactive'
    check (state in ('inactive', 'backfilling', 'live', 'paused', 'waiting_for_target', 'failing')),
  state_changed_at timestamptz not null default now(),
  cursor_txid xid8 not null default '0',
  cursor_position bigint not null default 0,
  -- the stream head seen at start: backfilling lasts until the cursor reaches it; null once live
  backfill_head_txid xid8,
  backfill_head_position bigint,
  backfill_total bigint,
  backfill_done bigint not null default 0,
  upserted bigint not null default 0,
  deleted bigint not null default 0,
  last_applied_at timestamptz,
  -- {message, sqlstate?, record?: {collection_id, upstream_id, sequin_id}, at}
  last_error jsonb,
  lag_alert_seconds int,
  -- ownership by one worker at a time; every position commit checks the fence
  lease_owner text,
  lease_fence bigint not null default 0,
  lease_expires_at timestamptz,
  inserted_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint sequin_consumers_one_filter check ((filter_provider is null) <> (filter_sync_id is null))
);

create unique index sequin_consumers_name on sequin_consumers (name);
create index sequin_consumers_target on sequin_consumers (target_id);

-- Every lifecycle transition, for health and the console.
create table sequin_consumer_events (
  id bigserial primary key,
  consumer_id uuid not null references sequin_consumers (id) on delete cascade,
  at timestamptz not null default now(),
  from_state text not null,
  to_state text not null,
  note text
);

create index sequin_consumer_events_consumer on sequin_consumer_events (consumer_id, id desc);
