-- Alerts for syncs that pull, through the same path as consumers and targets: each source remembers the
-- health status it last alerted about (swapped with a compare-and-set, so one process queues each alert),
-- and deliveries may be about a sync.

alter table sequin_sources
  add column alerted_status text not null default 'healthy' check (alerted_status in ('healthy', 'unhealthy')),
  add column alerted_at timestamptz;

alter table sequin_alert_deliveries
  drop constraint sequin_alert_deliveries_entity_kind_check,
  add constraint sequin_alert_deliveries_entity_kind_check check (entity_kind in ('consumer', 'target', 'sync'));
