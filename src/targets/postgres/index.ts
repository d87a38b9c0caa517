/** The Postgres target: connecting, setup and table SQL, verifying a table, applying batches. */

export { type ApplyOptions, type ApplyResult, applyBatch, type BatchSource } from "./batch-apply.js";
export {
  type ConnectionTestResult,
  type ConnectOptions,
  connectTarget,
  defaultConnectTimeoutMs,
  type SslMode,
  type TargetConnection,
  type TargetRoute,
  targetClientConfig,
  testTargetConnection,
} from "./connection.js";
export { type ApplyRow, toCopyText } from "./copy-text.js";
export { insertBatchDirect } from "./direct-insert.js";
export {
  classifyTargetError,
  isAuthenticationFailure,
  type TargetErrorClass,
  type TargetErrorKind,
} from "./error-classification.js";
export { qualifiedName, quoteIdent, type TableName, validateIdentifier } from "./identifiers.js";
export type {
  TableFinding,
  TableProblemKind,
  TableVerification,
  TableWarningKind,
} from "./table-findings.js";
export { deleteRowsNotIn, readTableIdentity, type TableIdentity, tableIsEmpty } from "./table-identity.js";
export { type ExplainedRefusal, explainRefusal, type Refusal } from "./table-refusal.js";
export { createTableSql, passwordPlaceholder, type SetupOptions, setupSql } from "./table-sql.js";
export { verifyTable } from "./table-verify.js";
export {
  advanceFence,
  createFenceTableSql,
  FenceRefused,
  fenceTableName,
  prepareFencedSession,
  type TargetFence,
  takeFence,
} from "./target-fence.js";
