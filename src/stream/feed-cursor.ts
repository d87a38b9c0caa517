/**
 * The changes feed's cursor. Clients see an opaque string; inside it is a versioned stream position
 * (txid, position) and two tags: one of the store that gave it and one of the filter it was read with.
 * A position only means something in the stream it came from and for the filter that skipped what it
 * skipped, so a cursor from another store or another filter is refused, never silently reused.
 */
import { createHash } from "node:crypto";
import type { Cursor, StreamFilter } from "./change-queries.js";

const version = "1";
const maxTxid = 2n ** 64n - 1n;
const maxPosition = 2n ** 63n - 1n;
const tagLength = 11;
const encodedShape = /^[A-Za-z0-9_-]{1,200}$/;
const decodedShape = /^1\.(\d{1,20})\.(\d{1,19})\.([A-Za-z0-9_-]{11})\.([A-Za-z0-9_-]{11})$/;

/** Where a cursor belongs: the store's tag and the filter's tag. */
export interface FeedBinding {
  store: string;
  filter: string;
}

export type DecodedFeedCursor = { ok: true; position: Cursor } | { ok: false; problem: string };

function tag(kind: string, value: string): string {
  return createHash("sha256").update(`${kind}\n${value}`).digest("base64url").slice(0, tagLength);
}

/** The binding of a read: `storeIdentity` names the store (see readStoreIdentity). */
export function feedBinding(
  storeIdentity: string,
  filter: StreamFilter,
  collectionId: string | null,
): FeedBinding {
  const scope = "provider" in filter ? ["provider", filter.provider] : ["sync", filter.syncId.toLowerCase()];
  return {
    store: tag("store", storeIdentity),
    filter: tag("filter", JSON.stringify([...scope, collectionId])),
  };
}

export function encodeFeedCursor(position: Cursor, binding: FeedBinding): string {
  const text = [version, position.txid, position.position, binding.store, binding.filter].join(".");
  return Buffer.from(text, "utf8").toString("base64url");
}

const malformed = "is not a cursor of this feed: pass the `next` of a previous answer unchanged";

/** The position inside `text`, or why it cannot be used with `binding`. */
export function decodeFeedCursor(text: string, binding: FeedBinding): DecodedFeedCursor {
  if (!encodedShape.test(text)) return { ok: false, problem: malformed };
  const match = decodedShape.exec(Buffer.from(text, "base64url").toString("utf8"));
  if (!match) return { ok: false, problem: malformed };
  const [, txid, position, store, filter] = match as unknown as [string, string, string, string, string];
  if (BigInt(txid) > maxTxid || BigInt(position) > maxPosition) return { ok: false, problem: malformed };
  if (store !== binding.store) {
    return {
      ok: false,
      problem: "comes from another Sequin store: a cursor works only on the service whose feed gave it",
    };
  }
  if (filter !== binding.filter) {
    return {
      ok: false,
      problem:
        "was given for another filter: a cursor works only with the sync_id or provider and the collection_id it was read with",
    };
  }
  return { ok: true, position: { txid, position } };
}
