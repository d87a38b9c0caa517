/**
 * Runs an async round every `intervalMs`, never two at once; `stop()` waits for the round in flight.
 * A round's error goes to `onError` and the next round still runs. While rounds keep failing (the store
 * is down for minutes), `onError` hears of it once a minute, not every round.
 */
const repeatErrorEveryMs = 60_000;

export class Periodic {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;
  private lastErrorReportedAt: number | undefined;

  constructor(
    private readonly intervalMs: number,
    private readonly round: () => Promise<void>,
    private readonly onError: (error: unknown) => void,
  ) {}

  start(firstDelayMs = this.intervalMs): void {
    this.stopped = false;
    this.schedule(firstDelayMs);
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.round()
        .then(
          () => {
            this.lastErrorReportedAt = undefined;
          },
          (error: unknown) => {
            const now = Date.now();
            if (this.lastErrorReportedAt !== undefined && now - this.lastErrorReportedAt < repeatErrorEveryMs)
              return;
            this.lastErrorReportedAt = now;
            this.onError(error);
          },
        )
        .finally(() => {
          this.running = undefined;
          this.schedule(this.intervalMs);
        });
    }, ms);
  }
}
