/**
 * One HubSpot portal's CRM data: objects of each type, their archive (the recycle bin, purged after 90
 * days), merges, owners, and the search index, which shows each change only `indexLagMs` after it was made
 * (HubSpot's search is eventually consistent; lists and reads are not). Times come from the emulator's clock.
 */
import type { EmulatorClock } from "../stripe/index.js";
import { modifiedProperty, OBJECT_TYPES, type ObjectType, propertyNames } from "./properties.js";

export type Properties = Record<string, string | null>;

export interface StoredObject {
  id: string;
  properties: Properties;
  createdAt: number;
  updatedAt: number;
  archivedAt: number | null;
}

export interface Owner {
  id: string;
  email: string;
  firstName: string;
  lastName: string;
  userId: number;
  createdAt: number;
  updatedAt: number;
  archived: boolean;
}

/** What the search index holds of an object from `visibleAt` on: a copy, or nothing (archived, merged). */
interface IndexVersion {
  visibleAt: number;
  object: StoredObject | null;
}

export const PURGE_AFTER_MS = 90 * 86_400_000;

export interface MutationOptions {
  /** The change's time (emulator ms); now by default. Several changes may share one. */
  at?: number;
}

export class PortalData {
  readonly portalId = 62515;
  private nextId = 1001;
  private nextOwnerId = 70001;
  private readonly objects = new Map<ObjectType, Map<string, StoredObject>>();
  private readonly index = new Map<ObjectType, Map<string, IndexVersion[]>>();
  /** Merged-away id → the id it was merged into. */
  private readonly mergedInto = new Map<string, string>();
  readonly owners = new Map<string, Owner>();
  /** Properties an account added (HubSpot accounts often have hundreds). */
  private readonly custom = new Map<ObjectType, string[]>();
  indexLagMs = 0;

  constructor(private readonly clock: EmulatorClock) {
    for (const type of OBJECT_TYPES) {
      this.objects.set(type, new Map());
      this.index.set(type, new Map());
    }
  }

  /** Every property of a type: HubSpot's and the account's own. */
  propertyNames(type: ObjectType): string[] {
    return [...propertyNames(type), ...(this.custom.get(type) ?? [])];
  }

  defineProperties(type: ObjectType, names: string[]): void {
    const known = new Set(this.propertyNames(type));
    this.custom.set(type, [...(this.custom.get(type) ?? []), ...names.filter((n) => !known.has(n))]);
  }

  create(type: ObjectType, properties: Properties = {}, options: MutationOptions = {}): StoredObject {
    const at = options.at ?? this.clock.nowMs();
    const id = String(this.nextId++);
    this.checkProperties(type, properties);
    const iso = new Date(at).toISOString();
    const object: StoredObject = {
      id,
      properties: {
        ...properties,
        hs_object_id: id,
        createdate: iso,
        hs_createdate: iso,
        [modifiedProperty(type)]: iso,
      },
      createdAt: at,
      updatedAt: at,
      archivedAt: null,
    };
    this.table(type).set(id, object);
    this.reindex(type, object);
    return structuredClone(object);
  }

  update(type: ObjectType, id: string, properties: Properties, options: MutationOptions = {}): StoredObject {
    const object = this.live(type, id);
    this.checkProperties(type, properties);
    const at = options.at ?? this.clock.nowMs();
    Object.assign(object.properties, properties, { [modifiedProperty(type)]: new Date(at).toISOString() });
    object.updatedAt = at;
    this.reindex(type, object);
    return structuredClone(object);
  }

  /** Archiving (a delete) sets archivedAt and leaves the last-modified property as it was. */
  archive(type: ObjectType, id: string, options: MutationOptions = {}): void {
    const object = this.live(type, id);
    object.archivedAt = options.at ?? this.clock.nowMs();
    this.reindex(type, object);
  }

  /** Restoring from the recycle bin is a change: it moves the last-modified property. */
  restore(type: ObjectType, id: string, options: MutationOptions = {}): StoredObject {
    this.purge();
    const object = this.table(type).get(id);
    if (!object || object.archivedAt === null) throw new Error(`${type} ${id} is not in the recycle bin`);
    object.archivedAt = null;
    return this.update(type, id, {}, options);
  }

  /** `merged` disappears into `primary`, which lists it in hs_merged_object_ids and changes. */
  merge(type: ObjectType, primary: string, merged: string, options: MutationOptions = {}): StoredObject {
    const absorbed = this.live(type, merged);
    const survivor = this.live(type, primary);
    this.table(type).delete(merged);
    this.mergedInto.set(merged, primary);
    this.indexVersions(type, merged).push({ visibleAt: this.clock.nowMs() + this.indexLagMs, object: null });
    const ids = [survivor.properties.hs_merged_object_ids, absorbed.properties.hs_merged_object_ids, merged]
      .filter((v): v is string => typeof v === "string" && v !== "")
      .join(";");
    return this.update(type, primary, { hs_merged_object_ids: ids }, options);
  }

  /** Where a merged-away id now lives (HubSpot answers a read of it with the survivor). */
  survivorOf(id: string): string | undefined {
    let current = this.mergedInto.get(id);
    while (current && this.mergedInto.has(current)) current = this.mergedInto.get(current);
    return current;
  }

  /** Live objects (archived ones with `archived`), ordered by id. */
  list(type: ObjectType, archived: boolean): StoredObject[] {
    this.purge();
    return [...this.table(type).values()]
      .filter((o) => (o.archivedAt !== null) === archived)
      .sort((a, b) => Number(a.id) - Number(b.id));
  }

  get(type: ObjectType, id: string): StoredObject | undefined {
    this.purge();
    return this.table(type).get(id);
  }

  /** What search sees now: each object's newest indexed version that is visible, ordered by id. */
  searchable(type: ObjectType): StoredObject[] {
    const now = this.clock.nowMs();
    const out: StoredObject[] = [];
    for (const versions of this.index.get(type)!.values()) {
      let visible: IndexVersion | undefined;
      for (const v of versions) if (v.visibleAt <= now) visible = v;
      // older versions than the visible one are no longer needed
      if (visible) versions.splice(0, versions.indexOf(visible));
      if (visible?.object) out.push(visible.object);
    }
    return out.sort((a, b) => Number(a.id) - Number(b.id));
  }

  createOwner(fields: Partial<Pick<Owner, "email" | "firstName" | "lastName">> = {}): Owner {
    const at = this.clock.nowMs();
    const id = String(this.nextOwnerId++);
    const owner: Owner = {
      id,
      email: fields.email ?? `owner${id}@example.com`,
      firstName: fields.firstName ?? "Owner",
      lastName: fields.lastName ?? id,
      userId: 9_000_000 + Number(id),
      createdAt: at,
      updatedAt: at,
      archived: false,
    };
    this.owners.set(id, owner);
    return { ...owner };
  }

  updateOwner(id: string, fields: Partial<Pick<Owner, "email" | "firstName" | "lastName">>): Owner {
    const owner = this.owners.get(id);
    if (!owner || owner.archived) throw new Error(`owner ${id} is not live`);
    Object.assign(owner, fields, { updatedAt: this.clock.nowMs() });
    return { ...owner };
  }

  /** A deactivated user: the owner moves to the archived list. */
  archiveOwner(id: string): void {
    const owner = this.owners.get(id);
    if (!owner || owner.archived) throw new Error(`owner ${id} is not live`);
    owner.archived = true;
    owner.updatedAt = this.clock.nowMs();
  }

  private checkProperties(type: ObjectType, properties: Properties): void {
    const known = new Set(this.propertyNames(type));
    for (const name of Object.keys(properties))
      if (!known.has(name))
        throw new Error(`${type} has no property ${name} (properties.ts lists them; defineProperties adds)`);
  }

  private table(type: ObjectType): Map<string, StoredObject> {
    return this.objects.get(type)!;
  }

  private live(type: ObjectType, id: string): StoredObject {
    const object = this.table(type).get(id);
    if (!object || object.archivedAt !== null) throw new Error(`${type} ${id} is not live`);
    return object;
  }

  private indexVersions(type: ObjectType, id: string): IndexVersion[] {
    const byId = this.index.get(type)!;
    let versions = byId.get(id);
    if (!versions) {
      versions = [];
      byId.set(id, versions);
    }
    return versions;
  }

  private reindex(type: ObjectType, object: StoredObject): void {
    this.indexVersions(type, object.id).push({
      visibleAt: this.clock.nowMs() + this.indexLagMs,
      object: object.archivedAt === null ? structuredClone(object) : null,
    });
  }

  /** The recycle bin keeps archived records 90 days. */
  private purge(): void {
    const horizon = this.clock.nowMs() - PURGE_AFTER_MS;
    for (const table of this.objects.values())
      for (const [id, object] of table)
        if (object.archivedAt !== null && object.archivedAt < horizon) table.delete(id);
  }
}
