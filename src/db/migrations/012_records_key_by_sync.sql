-- The records' key index is ordered by sync first, so one sync's keys sit together in it.
--
-- The key was sequin_id alone: a UUID v5, a hash, so a sync's keys were spread over the whole index, and
-- each ingest call (10,000 records, probed and inserted in key order) touched pages all over it. In a store
-- of 5M records that index was 190 MB, more than the embedded store's 128 MB of shared buffers: ingesting
-- 100,000 new records read 59,000 of its pages from outside the buffers (19 in a store of 100,000), and
-- as each first change of a page after a checkpoint logs the whole page, wrote 25,000 page images to the
-- WAL (6), 318 MB of WAL instead of 175. Ingest ran at 0.77× of its rate in a small store.
--
-- Keyed (sync_id, sequin_id), a call touches only its own sync's part of the index, whose size follows the
-- sync, not the store. Unique on (sync_id, sequin_id) is unique on sequin_id: the id is derived from the
-- sync id (src/stream/sequin-id.ts), so one id never belongs to two syncs.
--
-- Hash partitions by sync were the other candidate. They only divide the problem: a partition's key index
-- still grows with the store (a 16th of it) unless it too leads with the sync, and with that key one table
-- already gives the locality. And every reader following a provider would merge one scan per partition.
alter table sequin_records
  drop constraint sequin_records_pkey,
  add constraint sequin_records_pkey primary key (sync_id, sequin_id);

-- Every reader of the stream follows one sync or one provider (sequin_records_by_sync, _by_provider); no
-- statement reads the whole stream in order, so this index was written by every change and read by none.
drop index sequin_records_stream;
