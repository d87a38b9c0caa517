/**
 * One Stripe account's objects and events. Every change goes through here, so every change that Stripe would
 * announce produces its event, with `data.object` a copy of the object at that moment and, for updates,
 * `data.previous_attributes`. Events older than 30 days by the emulator's clock are dropped, as Stripe only
 * keeps them that long ("List events, going back up to 30 days").
 */
import { DAY_MS, type EmulatorClock } from "./clock.js";
import type { CollectionName, CollectionSpec, JsonObject } from "./collections.js";
import { COLLECTIONS } from "./collections.js";
import { stripeId } from "./ids.js";

export const EVENT_RETENTION_SECONDS = (30 * DAY_MS) / 1000;

/** A stored object or event. `seq` orders rows created within the same second. */
export interface Row {
  seq: number;
  created: number;
  object: JsonObject;
  deleted: boolean;
}

export interface MutationOptions {
  /** Unix seconds of the change (and of a new object's `created`); the clock's now by default. */
  at?: number;
  /** Make the change without an event, as for objects Stripe changes silently. */
  silent?: boolean;
  /** Name the event instead of `<prefix>.updated` (e.g. `invoice.paid`). */
  eventType?: string;
}

export class AccountData {
  private readonly rows = new Map<CollectionName, Map<string, Row>>();
  private readonly events = new Map<string, Row>();
  private seq = 0;

  constructor(
    readonly id: string,
    readonly connected: boolean,
    private readonly clock: EmulatorClock,
    private readonly apiVersion: string,
  ) {}

  collection(name: CollectionName): Map<string, Row> {
    let rows = this.rows.get(name);
    if (!rows) {
      rows = new Map();
      this.rows.set(name, rows);
    }
    return rows;
  }

  eventRows(): Map<string, Row> {
    this.purgeEvents();
    return this.events;
  }

  create(name: CollectionName, fields: JsonObject, options: MutationOptions = {}): JsonObject {
    const spec: CollectionSpec = COLLECTIONS[name];
    const at = options.at ?? this.clock.nowSeconds();
    const id = typeof fields.id === "string" ? fields.id : stripeId(spec.prefix, spec.idLength);
    if (this.collection(name).has(id)) throw new Error(`${spec.object} ${id} already exists`);
    const object = shape({
      ...spec.defaults(at),
      ...(spec.hasMetadata ? { metadata: {} } : {}),
      ...(spec.hasUpdated ? { updated: at } : {}),
      ...fields,
      id,
      object: spec.object,
      created: at,
      livemode: false,
    });
    this.collection(name).set(id, { seq: this.nextSeq(), created: at, object, deleted: false });
    if (spec.eventPrefix && !options.silent) {
      const type = options.eventType ?? spec.createdEvent?.(object) ?? `${spec.eventPrefix}.created`;
      this.emit(type, object, undefined, at);
    }
    return structuredClone(object);
  }

  update(name: CollectionName, id: string, fields: JsonObject, options: MutationOptions = {}): JsonObject {
    const spec: CollectionSpec = COLLECTIONS[name];
    const row = this.live(name, id);
    const at = options.at ?? this.clock.nowSeconds();
    const before = row.object;
    const after: JsonObject = { ...before };
    for (const [key, value] of Object.entries(fields)) {
      if (key === "id" || key === "object" || key === "created") continue;
      after[key] = key === "metadata" ? mergeMetadata(before.metadata, value) : value;
    }
    if (spec.hasUpdated) after.updated = at;
    row.object = shape(after);
    const previous = previousAttributes(before, row.object);
    // Only `updated` moving is no change worth an event.
    const changed = Object.keys(previous).some((key) => key !== "updated");
    if (spec.eventPrefix && !options.silent && changed) {
      this.emit(options.eventType ?? `${spec.eventPrefix}.updated`, row.object, previous, at);
    }
    return structuredClone(row.object);
  }

  /** Deletes as the collection's table row says; answers what Stripe's DELETE answers. */
  remove(name: CollectionName, id: string, options: MutationOptions = {}): JsonObject {
    const spec: CollectionSpec = COLLECTIONS[name];
    const row = this.live(name, id);
    const at = options.at ?? this.clock.nowSeconds();
    switch (spec.deletion) {
      case "none":
        throw new Error(`Stripe has no delete for ${name}`);
      case "cancel": {
        const before = row.object;
        row.object = shape({ ...before, ...spec.cancel?.(at) });
        if (spec.eventPrefix && !options.silent) {
          this.emit(options.eventType ?? `${spec.eventPrefix}.deleted`, row.object, undefined, at);
        }
        return structuredClone(row.object);
      }
      case "tombstone":
      case "gone":
        row.deleted = true;
        if (spec.eventPrefix && !options.silent) {
          this.emit(options.eventType ?? `${spec.eventPrefix}.deleted`, row.object, undefined, at);
        }
        return { id, object: spec.object, deleted: true };
      default: {
        const unhandled: never = spec.deletion;
        throw new Error(`unknown deletion ${String(unhandled)}`);
      }
    }
  }

  /** Sends an event without changing anything, for types the table does not produce (`invoice.upcoming`). */
  emit(
    type: string,
    object: JsonObject,
    previous: JsonObject | undefined,
    at = this.clock.nowSeconds(),
  ): JsonObject {
    const event = shape({
      id: stripeId("evt_", 24),
      object: "event",
      ...(this.connected ? { account: this.id } : {}),
      api_version: this.apiVersion,
      created: at,
      data: previous
        ? { object: structuredClone(object), previous_attributes: previous }
        : { object: structuredClone(object) },
      livemode: false,
      pending_webhooks: 0,
      request: { id: null, idempotency_key: null },
      type,
    });
    this.events.set(event.id as string, { seq: this.nextSeq(), created: at, object: event, deleted: false });
    this.purgeEvents();
    return structuredClone(event);
  }

  private live(name: CollectionName, id: string): Row {
    const row = this.collection(name).get(id);
    if (!row || row.deleted) throw new Error(`No such ${COLLECTIONS[name].object}: '${id}'`);
    return row;
  }

  private purgeEvents(): void {
    const horizon = this.clock.nowSeconds() - EVENT_RETENTION_SECONDS;
    for (const [id, row] of this.events) if (row.created < horizon) this.events.delete(id);
  }

  private nextSeq(): number {
    this.seq += 1;
    return this.seq;
  }
}

/** `id` and `object` first, the rest alphabetical, as Stripe renders objects. */
function shape(object: JsonObject): JsonObject {
  const { id, object: kind, ...rest } = object;
  const out: JsonObject = { id, object: kind };
  for (const key of Object.keys(rest).sort()) out[key] = rest[key];
  return out;
}

/** Stripe merges metadata key by key; an empty value removes a key, an empty metadata clears it. */
function mergeMetadata(current: unknown, change: unknown): JsonObject {
  if (change === "" || change === null) return {};
  const merged: JsonObject = { ...(current as JsonObject) };
  for (const [key, value] of Object.entries(change as JsonObject)) {
    if (value === "" || value === null) delete merged[key];
    else merged[key] = String(value);
  }
  return merged;
}

function isPlainObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * The changed attributes with their old values: nested objects hold only their changed keys, arrays are given
 * whole, and attributes that did not exist before read as null.
 */
export function previousAttributes(before: JsonObject, after: JsonObject): JsonObject {
  const previous: JsonObject = {};
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const old = before[key];
    const now = after[key];
    if (JSON.stringify(old) === JSON.stringify(now)) continue;
    if (isPlainObject(old) && isPlainObject(now)) previous[key] = previousAttributes(old, now);
    else previous[key] = old === undefined ? null : structuredClone(old);
  }
  return previous;
}
