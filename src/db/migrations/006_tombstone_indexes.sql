-- Tombstones of a stream range, found without reading the range's rows: a consumer plans each batch from
-- the positions alone (an index-only scan of sequin_records_by_sync / _by_provider) plus the ids of the
-- deleted records in it, which these small partial indexes hold. Deleted records are few, so they cost
-- little to keep.
create index sequin_records_tombstones_by_sync on sequin_records (sync_id, txid, position)
  include (sequin_id) where deleted;
create index sequin_records_tombstones_by_provider on sequin_records (provider, txid, position)
  include (sequin_id) where deleted;
