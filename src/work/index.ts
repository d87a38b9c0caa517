/** Work ownership for any kind of work: worker heartbeats, leases with fences, fair shares. */

export { type SupervisedRunner, Supervisor, type SupervisorHooks } from "./supervisor.js";
export {
  beatMsFor,
  fairShare,
  type OwnershipOptions,
  planShare,
  type SharePlan,
  type WorkerRole,
  WorkOwnership,
} from "./work-ownership.js";
export {
  bumpFenceSql,
  fenceHolds,
  type LiveWorkerRow,
  selectLiveOwners,
  selectLiveWorkers,
  type WorkKind,
} from "./work-queries.js";
