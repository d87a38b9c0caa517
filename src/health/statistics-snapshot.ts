/**
 * The latest statistics of every entity, shared by the health watcher, `/metrics` and the lag sampler: read
 * again only when older than `maxAgeMs` (counted from when the read finished), and once however many ask
 * at the same time, so one process runs one statistics read per round whoever reads it.
 */
export class StatisticsSnapshot<T> {
  private latest: { at: number; value: T } | undefined;
  private reading: Promise<T> | undefined;

  constructor(
    private readonly read: () => Promise<T>,
    private readonly maxAgeMs: number,
  ) {}

  get(maxAgeMs = this.maxAgeMs): Promise<T> {
    if (this.reading) return this.reading;
    if (this.latest && Date.now() - this.latest.at < maxAgeMs) return Promise.resolve(this.latest.value);
    // a failed read keeps nothing: the next caller reads again
    const reading = this.read()
      .then((value) => {
        this.latest = { at: Date.now(), value };
        return value;
      })
      .finally(() => {
        if (this.reading === reading) this.reading = undefined;
      });
    this.reading = reading;
    return reading;
  }
}
