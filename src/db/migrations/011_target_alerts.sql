-- Alerts for targets, through the same path as consumers: each target remembers the health status it last
-- alerted about (swapped with a compare-and-set, so one process queues each alert), and a queued delivery
-- names the kind of entity it is about instead of assuming a consumer.

alter table sequin_targets
  add column alerted_status text not null default 'healthy' check (alerted_status in ('healthy', 'unhealthy')),
  add column alerted_at timestamptz;

alter table sequin_alert_deliveries rename column consumer_id to entity_id;

alter table sequin_alert_deliveries
  add column entity_kind text not null default 'consumer' check (entity_kind in ('consumer', 'target')),
  drop constraint sequin_alert_deliveries_event_check,
  -- `<kind>.unhealthy` or `<kind>.recovered`, for the kind the delivery is about
  add constraint sequin_alert_deliveries_event_check
    check (event in (entity_kind || '.unhealthy', entity_kind || '.recovered'));

alter table sequin_alert_deliveries alter column entity_kind drop default;
