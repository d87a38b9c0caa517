/**
 * The latest statistics of every entity, shared by the health watcher, `/metrics` and the lag sampler: read
 * again only when older than `maxAgeMs`, and once however many ask at the same time, so one process runs
 * one statistics query per round whoever reads it.
 */
export class StatisticsSnapshot<T> {
  private latest: { at: number; value: Promise<T> } | undefined;

  constructor(
    private readonly read: () => Promise<T>,
    private readonly maxAgeMs: number,
  ) {}

  get(maxAgeMs = this.maxAgeMs): Promise<T> {
    const now = Date.now();
    if (this.latest && now - this.latest.at < maxAgeMs) return this.latest.value;
    const entry = { at: now, value: this.read() };
    this.latest = entry;
    // a failed read is not kept: the next caller reads again
    entry.value.catch(() => {
      if (this.latest === entry) this.latest = undefined;
    });
    return entry.value;
  }
}
