-- Alerts: each consumer remembers the health status it last alerted about, so that one process (the one
-- whose compare-and-set wins) sends exactly one alert per change; deliveries are queued durably and
-- retried with backoff, apart from the consumers.

alter table sequin_consumers
  add column alerted_status text not null default 'healthy' check (alerted_status in ('healthy', 'unhealthy')),
  add column alerted_at timestamptz;

create table sequin_alert_deliveries (
  id bigserial primary key,
  -- no foreign key: an alert about a consumer deleted meanwhile is still worth delivering
  consumer_id uuid not null,
  channel text not null check (channel in ('email', 'webhook')),
  event text not null check (event in ('consumer.unhealthy', 'consumer.recovered')),
  payload jsonb not null,
  attempts int not null default 0,
  next_attempt_at timestamptz not null default now(),
  delivered_at timestamptz,
  last_error text,
  inserted_at timestamptz not null default now()
);

create index sequin_alert_deliveries_due on sequin_alert_deliveries (next_attempt_at) where delivered_at is null;
