/**
 * Declarative configuration: a YAML file of syncs, targets and consumers (secrets as `${VAR}` references),
 * planned against a running server, applied idempotently, and exported from one. docs/config.md describes
 * the format and the workflow.
 */
export { ApplyError, type ApplyOptions, applyPlan } from "./apply.js";
export { ConfigFileError, type ConfigProblem, formatProblem } from "./config-file-error.js";
export { exportConfig, variablePrefix } from "./export.js";
export type { Env } from "./interpolate.js";
export { type ConfigSource, type LoadedConfig, loadConfigFiles, parseConfigSources } from "./load.js";
export {
  type FieldChange,
  type Plan,
  type PlanAction,
  type PlannedAction,
  type PlanOptions,
  planChanges,
  type ResourceKind,
} from "./plan.js";
export { planText, summaryLine } from "./plan-text.js";
export type { ConfigFile, ConsumerEntry, SyncEntry, TargetEntry } from "./schema.js";
