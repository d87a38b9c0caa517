/**
 * The loop a long-running piece of work runs in (a consumer today, a source next), written once:
 *
 *   round → (more waiting? next round at once : wait up to `idleMs`, cut short by notify()) → round …
 *
 * A round that throws goes to the work's `failed`, which decides what follows (usually a wait through
 * `loop.wait`, or `loop.requestStop()`); should `failed` itself throw, the error goes to `onCrash` and the
 * loop waits `idleMs` and carries on: the loop never ends but by stop(). stop() lets the round in flight
 * finish and cuts any wait short.
 */
import { delay } from "./delay.js";

export interface LoopWork {
  /** One round of work; returns true when more is waiting, so the next round starts without a wait. */
  round(): Promise<boolean>;
  /** A round failed. */
  failed(error: unknown): Promise<void>;
}

export interface WorkLoopOptions {
  /** The wait between rounds when nothing is waiting: the backstop for a lost wake-up. */
  idleMs: number;
  /** A failure in handling a failure; the loop goes on after idleMs. */
  onCrash: (error: unknown) => void;
}

export class WorkLoop {
  private stopping = false;
  private woken = false;
  private wakeUp: (() => void) | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly work: LoopWork,
    private readonly options: WorkLoopOptions,
  ) {}

  start(): void {
    this.running ??= this.run();
  }

  /** Cuts the current (wakeable) wait short: new work may be there. */
  notify(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  /** Ends the loop after the round in flight, without waiting for it (for use inside a round). */
  requestStop(): void {
    this.stopping = true;
    this.wakeUp?.();
  }

  /** Ends the loop and waits for the round in flight. */
  async stop(): Promise<void> {
    this.requestStop();
    await this.running;
  }

  get stopped(): boolean {
    return this.stopping;
  }

  /**
   * Sleeps up to `ms`; a notify() cuts it short when `wakeable` (one that came during the round counts), and
   * stop() always does.
   */
  async wait(ms: number, wakeable = true): Promise<void> {
    if (this.stopping) return;
    if (wakeable && this.woken) {
      this.woken = false;
      return;
    }
    const wake = new AbortController();
    this.wakeUp = () => {
      if (wakeable || this.stopping) wake.abort();
    };
    await delay(ms, wake.signal);
    this.wakeUp = undefined;
    this.woken = false;
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      try {
        if (!(await this.work.round())) await this.wait(this.options.idleMs);
      } catch (error) {
        try {
          await this.work.failed(error);
        } catch (crash) {
          this.options.onCrash(crash);
          await this.wait(this.options.idleMs);
        }
      }
    }
  }
}
