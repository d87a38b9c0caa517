/**
 * The emulated org's records. Each record keeps its versions; a version is stamped (SystemModstamp, one-second
 * precision, by the emulator's clock) when its change is made, and becomes visible when its transaction
 * commits: at once by default, or `lateByMs` later (commit lag: a reader sees a record appear with a stamp
 * older than ones it already read). A later change of the same record commits after the earlier one (a row
 * lock). Deleting moves a record to the recycle bin (IsDeleted = true, a new stamp; `queryAll` still shows it)
 * and writes the delete log that `/deleted` reads (15 days; trimmable); purging removes it for good;
 * undelete brings it back.
 */
import type { EmulatorClock } from "../stripe/clock.js";
import { recordId } from "./ids.js";
import { customObject, type FieldSpec, formatDatetime, type ObjectSpec, standardObjects } from "./schema.js";

export type Fields = Record<string, unknown>;

interface Version {
  fields: Fields;
  isDeleted: boolean;
  /** Gone for good (purged from the recycle bin, or hard-deleted). */
  purged: boolean;
  stamp: number;
  visibleAt: number;
}

export interface StoredRecord {
  id: string;
  object: string;
  createdMs: number;
  versions: Version[];
}

/** The state of a record as a reader sees it at some moment. */
export interface RecordState {
  record: StoredRecord;
  fields: Fields;
  isDeleted: boolean;
  stamp: number;
}

export interface MutationOptions {
  /** The change commits this long after it is stamped (commit lag). */
  lateByMs?: number;
  /** Stamp it at this time (epoch ms by the emulator's clock) instead of now: an old record. */
  at?: number;
}

export interface DeleteLogEntry {
  id: string;
  deletedMs: number;
  visibleAt: number;
}

export const DELETE_LOG_DAYS = 15;

export class OrgData {
  readonly objects = new Map<string, ObjectSpec>(standardObjects());
  private readonly records = new Map<string, Map<string, StoredRecord>>();
  private readonly deleteLog = new Map<string, DeleteLogEntry[]>();
  /** Per object: the delete log was trimmed up to here. */
  private readonly trimmedUntil = new Map<string, number>();
  private counter = 0;

  constructor(private readonly clock: EmulatorClock) {}

  addCustomObject(name: string, fields: FieldSpec[]): void {
    const prefix = `a0${String.fromCharCode(65 + (this.objects.size % 26))}`;
    this.objects.set(name, customObject(name, prefix, fields));
  }

  spec(object: string): ObjectSpec {
    const spec = this.objects.get(object);
    if (!spec) throw new Error(`the emulated org has no object ${object}`);
    return spec;
  }

  rows(object: string): Map<string, StoredRecord> {
    let rows = this.records.get(object);
    if (!rows) {
      rows = new Map();
      this.records.set(object, rows);
    }
    return rows;
  }

  create(object: string, fields: Fields, options: MutationOptions = {}): StoredRecord {
    const spec = this.spec(object);
    const stamp = this.stamp(options);
    const record: StoredRecord = {
      id: recordId(spec.keyPrefix, ++this.counter),
      object,
      createdMs: stamp,
      versions: [],
    };
    this.rows(object).set(record.id, record);
    this.push(record, { fields: { ...fields }, isDeleted: false, purged: false, stamp }, options);
    return record;
  }

  update(object: string, id: string, fields: Fields, options: MutationOptions = {}): void {
    const record = this.existing(object, id);
    const last = record.versions.at(-1)!;
    if (last.isDeleted || last.purged) throw new Error(`${object} ${id} is deleted`);
    this.push(
      record,
      { fields: { ...last.fields, ...fields }, isDeleted: false, purged: false, stamp: this.stamp(options) },
      options,
    );
  }

  /** Moves the record to the recycle bin (IsDeleted, a new stamp) and writes the delete log. */
  remove(object: string, id: string, options: MutationOptions = {}): void {
    const record = this.existing(object, id);
    const last = record.versions.at(-1)!;
    if (last.isDeleted || last.purged) throw new Error(`${object} ${id} is already deleted`);
    const stamp = this.stamp(options);
    const version = this.push(record, { ...last, isDeleted: true, stamp }, options);
    this.logDelete(object, id, stamp, version.visibleAt);
  }

  /** Empties the record from the recycle bin, or hard-deletes a live one: no query shows it again. */
  purge(object: string, id: string, options: MutationOptions = {}): void {
    const record = this.existing(object, id);
    const last = record.versions.at(-1)!;
    if (last.purged) throw new Error(`${object} ${id} is already purged`);
    const stamp = this.stamp(options);
    const version = this.push(record, { ...last, isDeleted: true, purged: true, stamp }, options);
    if (!last.isDeleted) this.logDelete(object, id, stamp, version.visibleAt);
  }

  /** Brings a record back from the recycle bin (a new stamp); the delete log forgets it. */
  undelete(object: string, id: string, options: MutationOptions = {}): void {
    const record = this.existing(object, id);
    const last = record.versions.at(-1)!;
    if (!last.isDeleted || last.purged) throw new Error(`${object} ${id} is not in the recycle bin`);
    this.push(record, { ...last, isDeleted: false, stamp: this.stamp(options) }, options);
    this.deleteLog.set(
      object,
      (this.deleteLog.get(object) ?? []).filter((e) => e.id !== id),
    );
  }

  /** Drops the delete log's entries before `ms`: `/deleted` reports its earliest date as `ms` from now on. */
  trimDeleteLog(object: string, ms: number): void {
    this.trimmedUntil.set(object, Math.max(this.trimmedUntil.get(object) ?? 0, ms));
  }

  /** What a reader sees at `now`: the last committed version, or nothing (not yet committed, or purged). */
  visible(record: StoredRecord, now: number): RecordState | undefined {
    let version: Version | undefined;
    for (const v of record.versions) if (v.visibleAt <= now) version = v;
    if (!version || version.purged) return undefined;
    return { record, fields: version.fields, isDeleted: version.isDeleted, stamp: version.stamp };
  }

  /** The state once every change has committed: the ground truth a sync must end at. */
  final(record: StoredRecord): RecordState | undefined {
    const version = record.versions.at(-1)!;
    if (version.purged) return undefined;
    return { record, fields: version.fields, isDeleted: version.isDeleted, stamp: version.stamp };
  }

  /** The delete log of an object between two times, as visible at `now`, and its earliest date. */
  deleted(object: string, now: number): { entries: DeleteLogEntry[]; earliestMs: number } {
    const horizon = now - DELETE_LOG_DAYS * 86_400_000;
    const earliestMs = Math.max(horizon, this.trimmedUntil.get(object) ?? 0);
    const entries = (this.deleteLog.get(object) ?? []).filter(
      (e) => e.deletedMs >= earliestMs && e.visibleAt <= now,
    );
    return { entries, earliestMs };
  }

  /** A record in the form a query returns it, with the given fields. */
  render(state: RecordState, fields: readonly FieldSpec[], version: string): Fields {
    const url = `/services/data/v${version}/sobjects/${state.record.object}/${state.record.id}`;
    const out: Fields = { attributes: { type: state.record.object, url } };
    for (const field of fields) out[field.name] = this.value(state, field, version, true);
    return out;
  }

  /** A field's value: rendered for an answer, or comparable (datetimes as ms) for a filter. */
  value(
    state: RecordState,
    field: FieldSpec,
    version: string,
    rendered: boolean,
  ): string | number | boolean | null {
    switch (field.name) {
      case "Id":
        return state.record.id;
      case "IsDeleted":
        return state.isDeleted;
      case "CreatedDate":
        return rendered ? formatDatetime(state.record.createdMs) : state.record.createdMs;
      case "LastModifiedDate":
      case "SystemModstamp":
        return rendered ? formatDatetime(state.stamp) : state.stamp;
    }
    if (field.type === "base64")
      return `/services/data/v${version}/sobjects/${state.record.object}/${state.record.id}/${field.name}`;
    const value = state.fields[field.name];
    if (value === undefined || value === null) return null;
    if (field.type === "datetime" && typeof value === "number")
      return rendered ? formatDatetime(value) : value;
    return value as string | number | boolean;
  }

  private existing(object: string, id: string): StoredRecord {
    const record = this.rows(object).get(id);
    if (!record) throw new Error(`${object} ${id} does not exist`);
    return record;
  }

  private stamp(options: MutationOptions): number {
    return Math.floor((options.at ?? this.clock.nowMs()) / 1000) * 1000;
  }

  private push(record: StoredRecord, version: Omit<Version, "visibleAt">, options: MutationOptions): Version {
    const previous = record.versions.at(-1)?.visibleAt ?? 0;
    const visibleAt = Math.max(this.clock.nowMs(), previous) + (options.lateByMs ?? 0);
    const full = { ...version, visibleAt };
    record.versions.push(full);
    return full;
  }

  private logDelete(object: string, id: string, deletedMs: number, visibleAt: number): void {
    const log = this.deleteLog.get(object) ?? [];
    log.push({ id, deletedMs, visibleAt });
    this.deleteLog.set(object, log);
  }
}
