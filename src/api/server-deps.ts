/**
 * What the HTTP server needs from the rest of the service. Route modules read their collaborators from
 * here; a new component (consumers, targets, …) is one more field.
 */
import type pg from "pg";
import type { Logger } from "pino";
import type { Config } from "../config.js";
import type { Consumers } from "../consumer/index.js";
import type { ServiceMetrics } from "../health/metrics.js";
import type { Sources, SourceWorker } from "../sources/index.js";
import type { Targets } from "../targets/index.js";
import type { ApiTokens } from "./api-tokens.js";

export interface ServerDeps {
  config: Config;
  /** The service's own store. */
  pool: pg.Pool;
  log: Logger;
  tokens: ApiTokens;
  targets: Targets;
  consumers: Consumers;
  metrics: ServiceMetrics;
  sources: Sources;
  /** Absent in an `api` process: the workers sharing its store run the sources. */
  sourceWorker?: SourceWorker;
}
