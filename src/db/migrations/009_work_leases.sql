-- Work ownership for any kind of work (consumers now, sources next).
--
-- sequin_workers: one row per process that runs work, written once per beat (heartbeat_at, expires_at).
-- A worker is live while expires_at (its last beat plus its lease seconds, on the database clock) is ahead.
--
-- sequin_leases: who runs each piece of work. A lease is held while its owner is live: a worker's one
-- heartbeat write keeps all its leases alive. `fence` grows by one at every claim (and when a runner must be
-- restarted, e.g. after a definition change); every commit of the work checks it, in the store and in the
-- target, so a worker that lost its lease can change nothing. Rows are kept on release (owner null), so a
-- fence never goes back.
create table sequin_workers (
  id           uuid        primary key,
  hostname     text        not null,
  pid          int         not null,
  role         text        not null,
  started_at   timestamptz not null default now(),
  heartbeat_at timestamptz not null default now(),
  expires_at   timestamptz not null
);

create table sequin_leases (
  kind        text        not null,
  resource_id uuid        not null,
  owner       uuid,
  fence       bigint      not null default 0,
  claimed_at  timestamptz,
  primary key (kind, resource_id)
);

create index sequin_leases_owner on sequin_leases (owner) where owner is not null;

-- the fences consumers had so far carry over, so no runner's commit of the old scheme is ever accepted again
insert into sequin_leases (kind, resource_id, fence)
  select 'consumer', id, lease_fence + 1 from sequin_consumers;

alter table sequin_consumers
  drop column lease_owner,
  drop column lease_fence,
  drop column lease_expires_at;
