/**
 * Probes the targets that a worker's consumers write to, so an outage is noticed within seconds even by a
 * consumer that has nothing to write, and so a batch stuck on a black-holed connection (no answer, no
 * reset) is cut instead of hanging until TCP gives up. A failed probe is reported to every consumer of the
 * target, which then waits for it and probes with backoff on its own.
 *
 * A probe that throws could not be made (the service's own store, where the target's address is kept,
 * failed): that is no verdict on the target, so nobody is told it is down.
 */
import { Periodic, TimeoutError, withTimeout } from "../runtime/index.js";

export interface TargetProbe {
  ok: boolean;
  error?: string;
}

export interface TargetMonitorOptions {
  intervalMs: number;
  timeoutMs: number;
}

export class TargetMonitor {
  private readonly periodic: Periodic;

  constructor(
    private readonly options: TargetMonitorOptions,
    /** Target ids worth probing now (those with consumers running and not already waiting). */
    private readonly targetsInUse: () => string[],
    private readonly probe: (targetId: string) => Promise<TargetProbe>,
    private readonly onUnreachable: (targetId: string, reason: string) => void,
    private readonly onProbeImpossible: (targetId: string, error: Error) => void = () => {},
  ) {
    // a probe never throws (failures are results), so a round has no error to report
    this.periodic = new Periodic(
      options.intervalMs,
      () => this.round(),
      () => {},
    );
  }

  start(): void {
    this.periodic.start();
  }

  stop(): Promise<void> {
    return this.periodic.stop();
  }

  private async round(): Promise<void> {
    await Promise.all(
      this.targetsInUse().map(async (targetId) => {
        const result = await this.probeWithTimeout(targetId);
        if (result instanceof Error) this.onProbeImpossible(targetId, result);
        else if (!result.ok && !this.periodic.isStopped)
          this.onUnreachable(targetId, result.error ?? "no answer");
      }),
    );
  }

  private probeWithTimeout(targetId: string): Promise<TargetProbe | Error> {
    return withTimeout(this.options.timeoutMs, () => this.probe(targetId)).catch(
      (error: unknown): TargetProbe | Error => {
        if (error instanceof TimeoutError) return { ok: false, error: error.message };
        return error instanceof Error ? error : new Error(String(error));
      },
    );
  }
}
