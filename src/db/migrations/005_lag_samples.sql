-- Each consumer's lag, sampled every 30 s by the service and kept 2 hours, for the console's lag chart.

create table sequin_lag_samples (
  consumer_id uuid not null references sequin_consumers (id) on delete cascade,
  at timestamptz not null default now(),
  -- changes pending (counted up to a cap) and the age of the oldest, in seconds
  records bigint not null,
  seconds double precision not null
);

create index sequin_lag_samples_consumer_at on sequin_lag_samples (consumer_id, at);
create index sequin_lag_samples_at on sequin_lag_samples (at);
