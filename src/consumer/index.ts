/** Postgres consumers: definitions and lifecycle (Consumers), and the worker that runs them. */
export { type ConsumerCheckName, consumerFix } from "./consumer-health.js";
export {
  type ConsumerEvent,
  type ConsumerState,
  consumerEvents,
  consumerStates,
  isRunning,
  transition,
} from "./consumer-lifecycle.js";
export {
  type BatchApplied,
  type ConsumerRef,
  ConsumerRunner,
  defaultRunnerOptions,
  type RunnerOptions,
} from "./consumer-runner.js";
export * from "./consumer-schemas.js";
export { type TableFindings, type VerifiedConsumer, verifyAnswer } from "./consumer-verify.js";
export { knownProviders } from "./consumer-warnings.js";
export { ConsumerWorker, defaultWorkerOptions, type WorkerOptions } from "./consumer-worker.js";
export {
  type ConsumerStatistics,
  Consumers,
  type ConsumersDeps,
  lagCountCap,
  pendingCountCap,
  type TargetAccess,
} from "./consumers.js";
