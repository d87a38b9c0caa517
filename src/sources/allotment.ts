/**
 * A credential's allotment of its provider's rate limit. Two rules, both hard:
 *
 * - At most `perSecond` requests reach the provider in ANY one-second window. A request holds a slot from
 *   its turn until one second after its answer came back: the provider saw it somewhere in between, and a
 *   later request cannot arrive before its own turn, so no window the provider measures holds more. (A
 *   token bucket or a log of start times would not do: a full bucket plus one second's refill is twice the
 *   rate, and a request slowed by a new connection arrives late, next to the ones after it.) A fractional
 *   rate below 1 spaces single requests `1000 / perSecond` ms apart; above 1 it is rounded down.
 * - A pause the provider asked for (a 429's Retry-After, a quota spent until its reset) holds every request
 *   of the credential until it ends, not only the one that was refused.
 *
 * Takers are served in order.
 */
import { delay } from "../runtime/index.js";

/** A granted turn: call `done()` once the answer is in (or the request failed). */
export interface Turn {
  done(): void;
}

export class Allotment {
  /** When each held slot frees (Infinity while its request is in flight). */
  private held: { freeAt: number }[] = [];
  private capacity = 1;
  private windowMs = 1000;
  private pausedUntil = 0;
  private tail: Promise<unknown> = Promise.resolve();
  /** Wakes the taker waiting for a slot when a request in flight finishes. */
  private wake: (() => void) | undefined;

  constructor(
    perSecond: number,
    private readonly now: () => number = Date.now,
  ) {
    this.setRate(perSecond);
  }

  /** A new allotment (the sync's setting changed); requests already made still count. */
  setRate(perSecond: number): void {
    if (!(perSecond > 0) || !Number.isFinite(perSecond))
      throw new RangeError(`an allotment must be a positive number of requests per second, not ${perSecond}`);
    this.capacity = perSecond >= 1 ? Math.floor(perSecond) : 1;
    this.windowMs = perSecond >= 1 ? 1000 : 1000 / perSecond;
  }

  /**
   * Counts the whole allotment as used just now: the first requests wait one window. For a process's first
   * use of a credential, which another process may have used in the last second (the API verifying it
   * before a worker pulls, a worker that died and whose lease this one took).
   */
  spentJustNow(): void {
    const freeAt = this.now() + this.windowMs;
    this.held = Array.from({ length: this.capacity }, () => ({ freeAt }));
  }

  /** Holds every request of the credential until `untilMs` (epoch ms); a shorter pause does not shorten one. */
  pauseUntil(untilMs: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, untilMs);
  }

  /** When the current pause ends (epoch ms), or 0. */
  get pausedUntilMs(): number {
    return this.pausedUntil > this.now() ? this.pausedUntil : 0;
  }

  /** Waits for this request's turn; rejects with the signal's reason when it aborts first. */
  take(signal?: AbortSignal): Promise<Turn> {
    const turn = this.tail.then(() => this.waitForSlot(signal));
    this.tail = turn.catch(() => {});
    return turn;
  }

  private async waitForSlot(signal?: AbortSignal): Promise<Turn> {
    for (;;) {
      if (signal?.aborted) throw signal.reason;
      const now = this.now();
      this.held = this.held.filter((slot) => slot.freeAt > now);
      const full = this.held.length >= this.capacity;
      const waitMs = Math.max(
        this.pausedUntil - now,
        full ? Math.min(...this.held.map((slot) => slot.freeAt)) - now : 0,
      );
      if (waitMs <= 0) {
        const slot = { freeAt: Number.POSITIVE_INFINITY };
        this.held.push(slot);
        return {
          done: () => {
            if (slot.freeAt !== Number.POSITIVE_INFINITY) return;
            slot.freeAt = this.now() + this.windowMs;
            this.wake?.();
          },
        };
      }
      // every slot in flight: wait for one to finish (its window then starts), or for the signal
      const woken = new AbortController();
      this.wake = () => woken.abort();
      const signals = signal ? AbortSignal.any([signal, woken.signal]) : woken.signal;
      await delay(Number.isFinite(waitMs) ? waitMs : 60_000, signals);
      this.wake = undefined;
    }
  }
}

/**
 * One allotment per credential in this process, so two syncs sharing an API key share its limit. Keyed by
 * a fingerprint of the credential (never the secret itself). A credential's allotment starts spent: this
 * process cannot know what others sent with it in the last second.
 */
export class Allotments {
  private readonly byKey = new Map<string, Allotment>();

  for(fingerprint: string, perSecond: number): Allotment {
    let allotment = this.byKey.get(fingerprint);
    if (allotment) allotment.setRate(perSecond);
    else {
      allotment = new Allotment(perSecond);
      allotment.spentJustNow();
      this.byKey.set(fingerprint, allotment);
    }
    return allotment;
  }
}
