-- Console sign-ins, kept in the store so that a sign-in survives a restart of the service and works on
-- every process that shares the store (behind a load balancer without sticky sessions). Only the SHA-256
-- of the session id (the cookie's value) is kept: a copy of this table opens no console. A session ends at
-- expires_at or when its user signs out (the row is deleted); expired rows are deleted at later sign-ins.
create table sequin_console_sessions (
  id_sha256 bytea primary key,
  expires_at timestamptz not null,
  inserted_at timestamptz not null default now()
);

create index sequin_console_sessions_expires on sequin_console_sessions (expires_at);
