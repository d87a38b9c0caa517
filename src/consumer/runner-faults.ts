/**
 * What can go wrong while a consumer runs, as data: every error a round throws is classified once, by
 * `faultOf`, into one of these, and the runner decides on the kind (never by catching private error
 * classes at several places). Errors of our own making carry their fault (`RunnerFault`); the rest are the
 * target's or the driver's, classified by the target's error rules.
 */
import { isStoreOutage } from "../db/store-outage.js";
import { classifyTargetError, FenceRefused } from "../targets/postgres/index.js";

export type Fault =
  /** The service's own store failed: waited out, never blamed on the target. */
  | { kind: "store"; message: string }
  /** Another worker owns the consumer now: `where` refused this runner's fenced write. */
  | { kind: "lease_lost"; where: "store" | "target" }
  /** The target's fence table (or this consumer's row) is gone: the runner restarts and creates it. */
  | { kind: "fence_missing"; message: string }
  /** The target cannot be reached (the monitor's verdict, a cut connection, a refused login…). */
  | { kind: "target_down"; message: string }
  /**
   * The target answered with an error outside a batch's split (a refusal there names its record instead):
   * retried after a short wait.
   */
  | { kind: "target_error"; class: "refused" | "transient"; message: string; sqlstate?: string };

/** An error that carries its fault: thrown by the runner's collaborators for failures they recognise. */
export class RunnerFault extends Error {
  constructor(
    readonly fault: Fault,
    options?: { cause?: unknown },
  ) {
    super("message" in fault ? fault.message : `lease lost (refused by the ${fault.where})`, options);
  }
}

/** A failed call to the service's store, as a fault. */
export function storeFault(error: unknown): RunnerFault {
  if (error instanceof RunnerFault) return error;
  const message = (error as Error)?.message ?? String(error);
  return new RunnerFault(
    {
      kind: "store",
      message: isStoreOutage(error)
        ? `the service's store is unreachable: ${message}`
        : `a query of the service's store failed: ${message}`,
    },
    { cause: error },
  );
}

/** Runs one call to the service's store; its failure becomes a store fault. */
export async function fromStore<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw storeFault(error);
  }
}

/** Classifies any error a round threw. */
export function faultOf(error: unknown): Fault {
  if (error instanceof RunnerFault) return error.fault;
  if (error instanceof FenceRefused)
    return error.missing
      ? { kind: "fence_missing", message: error.message }
      : { kind: "lease_lost", where: "target" };
  const classified = classifyTargetError(error);
  if (classified.kind === "unreachable") return { kind: "target_down", message: classified.message };
  return {
    kind: "target_error",
    class: classified.kind,
    message: classified.message,
    ...(classified.sqlstate ? { sqlstate: classified.sqlstate } : {}),
  };
}

/**
 * The target's refusal of a write (a constraint, a type, a privilege): the kind of error a batch is split
 * on to find the one record refused. Anything else (an outage, a lost lease, the store) is not.
 */
export function refusalOf(error: unknown): { message: string; sqlstate?: string } | null {
  if (error instanceof RunnerFault || error instanceof FenceRefused) return null;
  const classified = classifyTargetError(error);
  if (classified.kind !== "refused") return null;
  return { message: classified.message, ...(classified.sqlstate ? { sqlstate: classified.sqlstate } : {}) };
}
