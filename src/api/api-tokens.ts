/**
 * Bearer tokens of the Management API. SEQUIN_API_TOKEN is always accepted; other tokens live in the store
 * as SHA-256 digests only. Lookups are cached briefly so that each request does not query the store.
 */
import { createHash, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import type pg from "pg";
import { insertFirstToken, insertToken, tokenExists } from "./api-token-queries.js";

const acceptedTtlMs = 60_000;
const refusedTtlMs = 5_000;
const maxCacheEntries = 10_000;

export function sha256(token: string): Buffer {
  return createHash("sha256").update(token, "utf8").digest();
}

export function generateToken(): string {
  return `sqn_${randomBytes(32).toString("base64url")}`;
}

/**
 * Stores a new admin token and returns it, to be shown once (`sequin token create`: the way back when the
 * first one was lost). Running services accept it at once: they look up tokens they have not seen.
 */
export async function createToken(pool: pg.Pool, name: string): Promise<string> {
  const token = generateToken();
  await insertToken(pool, randomUUID(), name, sha256(token));
  return token;
}

export class ApiTokens {
  private readonly adminDigest: Buffer | undefined;
  private readonly cache = new Map<string, { accepted: boolean; until: number }>();

  constructor(
    private readonly pool: pg.Pool,
    adminToken: string | undefined,
  ) {
    this.adminDigest = adminToken === undefined ? undefined : sha256(adminToken);
  }

  /**
   * Without SEQUIN_API_TOKEN and with no token stored yet, generates one, stores its digest and returns it
   * so that it can be shown once. Returns undefined otherwise.
   */
  async ensureToken(): Promise<string | undefined> {
    if (this.adminDigest) return undefined;
    const token = generateToken();
    const stored = await insertFirstToken(
      this.pool,
      randomUUID(),
      "admin (generated at first start)",
      sha256(token),
    );
    return stored ? token : undefined;
  }

  async verify(token: string): Promise<boolean> {
    const digest = sha256(token);
    // Digests have a fixed length, so this comparison takes the same time whatever the token.
    if (this.adminDigest && timingSafeEqual(digest, this.adminDigest)) return true;
    const key = digest.toString("hex");
    const now = Date.now();
    const cached = this.cache.get(key);
    if (cached && cached.until > now) return cached.accepted;
    const accepted = await tokenExists(this.pool, digest);
    if (this.cache.size >= maxCacheEntries) this.cache.clear();
    this.cache.set(key, { accepted, until: now + (accepted ? acceptedTtlMs : refusedTtlMs) });
    return accepted;
  }
}
