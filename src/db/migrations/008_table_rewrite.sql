-- A consumer notices when its table is not the one it filled, and rewrites it from the stream.
--
-- table_oid / table_relfilenode: the identity of the table the consumer last wrote to (pg_class in the
-- target). A new oid means the table was dropped and created again; a new relfilenode with the same oid
-- means it was truncated (or rewritten by VACUUM FULL / ALTER TABLE, which keeps the rows).
--
-- rewrite_*: a rewrite of the table from the stream, running beside the live changes. Its own cursor walks
-- the stream from the start up to rewrite_head (the consumer's position when the rewrite began); what
-- changes after that the live cursor applies. When the walk ends, rows that are no longer in the stream are
-- deleted and rewrite_finished_at is set.
alter table sequin_consumers
  add column table_oid bigint,
  add column table_relfilenode bigint,
  add column rewrite_reason text,
  add column rewrite_started_at timestamptz,
  add column rewrite_finished_at timestamptz,
  add column rewrite_cursor_txid xid8,
  add column rewrite_cursor_position bigint,
  add column rewrite_head_txid xid8,
  add column rewrite_head_position bigint,
  add column rewrite_total bigint,
  add column rewrite_done bigint not null default 0,
  add column rewrite_deleted bigint not null default 0;
