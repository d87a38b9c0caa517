-- The stream's read watermark: a reader reads only rows whose txid is below it. The one definition, used by
-- every read of the stream (src/stream/change-queries.ts); the argument is in docs/streams.md.
--
-- It was pg_snapshot_xmin(pg_current_snapshot()): the oldest transaction still running anywhere on the
-- server, so one long write transaction in ANOTHER database held back every consumer. Now it is the oldest
-- transaction of the reader's snapshot that is not proven to run in another database:
--
--   least(xmax, own xid, min(xip less the xids that pg_stat_activity shows in another database))
--
-- Safe because a backend stays connected to one database for life and a transaction writes only the tables
-- of its backend's database: an xid seen as the backend_xid of a session of another database can never be
-- the txid of a row of ours. Everything not proven foreign still holds readers back: transactions of this
-- database, prepared transactions (not in pg_stat_activity), sessions with no database. With nothing
-- foreign running, the result equals pg_snapshot_xmin(pg_current_snapshot()).
--
-- STABLE, so that it judges the calling statement's own snapshot: a VOLATILE function would take a newer one,
-- and a watermark from a later snapshot than the one the rows were read with can skip a change. Callers
-- evaluate it once per statement, as `(select sequin_stream_watermark())`.
--
-- pg_stat_activity must be read after that snapshot was taken. Each backend's xid is read apart from the
-- rest of its entry, so a slot reused by a new backend between the two can pair an xid with the database
-- of the backend before; read after the snapshot, such an xid was assigned after it, so it is not in xip
-- and changes nothing. A session caches pg_stat_activity at its first read in a transaction: under read
-- committed each statement takes a newer snapshot than that, so it is read again (pg_stat_clear_snapshot);
-- under repeatable read the transaction's one snapshot came first, and keeping the cached read keeps the
-- watermark the same for the whole snapshot (a stranger that ended meanwhile stays passed over).
-- xip holds top-level xids only, as the stream stores them (pg_current_xact_id()). xip's xid8 and the
-- 32-bit backend_xid are compared as xid: both lie within 2^31 above this snapshot's xmin while it is held,
-- so equal low bits mean the same transaction.
create function sequin_stream_watermark() returns xid8
  language plpgsql stable parallel restricted
as $$
declare
  snapshot pg_snapshot := pg_current_snapshot();
  watermark xid8 := least(pg_snapshot_xmax(snapshot), pg_current_xact_id_if_assigned());
begin
  -- pg_stat_activity is read only when some transaction below the bound is still running
  if exists (select from pg_snapshot_xip(snapshot) x where x < watermark) then
    if current_setting('transaction_isolation') = 'read committed' then
      perform pg_stat_clear_snapshot();
    end if;
    select least(watermark, min(x)) into watermark
    from pg_snapshot_xip(snapshot) x
    where not exists (
      select from pg_stat_activity a
      where a.backend_xid = x::xid
        and a.datid <> (select oid from pg_database where datname = current_database()));
  end if;
  return watermark;
end
$$;
