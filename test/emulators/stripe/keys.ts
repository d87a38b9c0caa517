/**
 * API keys and the accounts they reach. A key belongs to one platform account; `Stripe-Account` lets it act on
 * that platform's connected accounts only. Keys can be revoked while the emulator runs, as a rolled key is.
 */
import { accountInvalid, invalidApiKey, missingApiKey } from "./errors.js";
import { stripeId } from "./ids.js";

interface KeyRecord {
  account: string;
  revoked: boolean;
}

export class KeyRing {
  private readonly keys = new Map<string, KeyRecord>();
  private readonly connected = new Map<string, Set<string>>();

  create(account: string): string {
    const key = stripeId("sk_test_", 99);
    this.keys.set(key, { account, revoked: false });
    return key;
  }

  revoke(key: string): void {
    const record = this.keys.get(key);
    if (!record) throw new Error("unknown key");
    record.revoked = true;
  }

  connect(platform: string, account: string): void {
    const accounts = this.connected.get(platform) ?? new Set();
    accounts.add(account);
    this.connected.set(platform, accounts);
  }

  /** The key an Authorization header carries: `Bearer <key>`, or basic auth with the key as user name. */
  static keyFrom(header: string | undefined): string | null {
    if (!header) return null;
    const [scheme, value] = header.trim().split(/\s+/, 2);
    if (!value) return null;
    if (scheme?.toLowerCase() === "bearer") return value;
    if (scheme?.toLowerCase() === "basic") {
      const user = Buffer.from(value, "base64").toString().split(":")[0];
      return user ? user : null;
    }
    return null;
  }

  /** The account a request acts on, or the 401/403 Stripe answers. */
  authorize(key: string | null, stripeAccount: string | undefined): string {
    if (key === null) throw missingApiKey();
    const record = this.keys.get(key);
    if (!record || record.revoked) throw invalidApiKey(key);
    if (stripeAccount === undefined || stripeAccount === record.account) return record.account;
    if (!this.connected.get(record.account)?.has(stripeAccount)) throw accountInvalid(key, stripeAccount);
    return stripeAccount;
  }
}
