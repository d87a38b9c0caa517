/** Syncs that pull their provider's API: the engine, the providers' sources, and their HTTP client. */
export { Allotment, Allotments } from "./allotment.js";
export {
  defaultRules,
  ProviderError,
  ProviderHttp,
  type ProviderRules,
  type RequestEvent,
} from "./provider-http.js";
export type { CredentialChoice, CredentialField, SettingField, Source, SourceKind } from "./source.js";
export { type SyncCheckName, syncFix, syncHealth } from "./source-health.js";
export { isSecretCredential, sourceFactories } from "./source-kinds.js";
export {
  type SourceInput,
  type SourcePatch,
  type SourceView,
  sourceInputSchema,
  sourcePatchSchema,
  sourceViewSchema,
} from "./source-schemas.js";
export { defaultSourceWorkerOptions, SourceWorker, type SourceWorkerOptions } from "./source-worker.js";
export { type PreparedSource, Sources, type SyncStatistics } from "./sources.js";
