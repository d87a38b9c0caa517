/**
 * `sequin_id` is a UUID v5 of the record's key (sync, collection, upstream id). Deriving it instead of
 * storing a generated one makes it stable for the record's whole life by construction: across deletes
 * and re-creates, and even after its sync or collection was removed and added again.
 */
import { createHash } from "node:crypto";

/** Namespace of sequin record ids (a fixed random UUID; never change it). */
const namespace = Buffer.from("6f1c3a1e9b8d4e57a2c04b5fd3e1a7c2", "hex");

export function sequinId(syncId: string, collectionId: string, upstreamId: string): string {
  // Lengths are part of the hashed name so that no two different keys can serialize alike.
  const name = `${syncId}\u0000${collectionId.length}:${collectionId}\u0000${upstreamId}`;
  const hash = createHash("sha1").update(namespace).update(name, "utf8").digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
