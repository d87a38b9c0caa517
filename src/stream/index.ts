/** The record stream: syncs, ingest, ordered reading and wake-ups. The only module other folders import. */

export type { Queryable } from "../db/queryable.js";
export {
  type BatchBounds,
  type Change,
  type ChangeKey,
  type Cursor,
  compareCursors,
  copyChangesOutSql,
  copyKeptIdsOutSql,
  copyLiveRowsOutSql,
  countChangesUpTo,
  hasLiveRecordsUpTo,
  type Pending,
  readBatchBounds,
  readChangeKeys,
  readChanges,
  readPending,
  readStreamHead,
  type StreamFilter,
  storeCopySession,
  streamStart,
} from "./change-queries.js";
export {
  ChangesFeed,
  type ChangesFeedOptions,
  defaultFeedLimit,
  type FeedChange,
  type FeedPage,
  type FeedRequest,
  maxFeedLimit,
  maxFeedWaitMs,
} from "./changes-feed.js";
export { ingest, ingestWithin, timestampMicros } from "./ingest.js";
export { lookupRecords, recordCounts } from "./records.js";
export { sequinId } from "./sequin-id.js";
export { StreamListener, type WakeFilter } from "./stream-listener.js";
export { notifyStreamChanged, streamChannel } from "./stream-notifier.js";
export * from "./stream-schemas.js";
export {
  createSync,
  deleteSync,
  getSync,
  listSyncs,
  removeCollection,
  updateSync,
} from "./syncs.js";
