/**
 * Stripe as a provider: the collections we pull (the `object` names records carry, with the list endpoint
 * each comes from), the defaults, and the credential's fields. Facts: docs/sources.md (Stripe).
 */
import { createHash } from "node:crypto";
import type { SourceKind } from "../source.js";

export interface StripeCollection {
  /** The list and retrieve path under /v1. */
  path: string;
  /** Filters a list needs to show every object (subscriptions hide canceled ones without status=all). */
  listQuery?: Record<string, string>;
}

export const stripeCollections: Readonly<Record<string, StripeCollection>> = {
  customer: { path: "customers" },
  product: { path: "products" },
  price: { path: "prices" },
  subscription: { path: "subscriptions", listQuery: { status: "all" } },
  invoice: { path: "invoices" },
  charge: { path: "charges" },
  payment_intent: { path: "payment_intents" },
};

export interface StripeCredentials {
  api_key: string;
  /** A connected account (Stripe Connect): sent as Stripe-Account. */
  stripe_account?: string;
}

export const stripeKind: SourceKind = {
  provider: "stripe",
  label: "Stripe",
  credentialChoices: [
    {
      id: "key",
      label: "API key",
      fields: [
        {
          field: "api_key",
          label: "API key",
          secret: true,
          required: true,
          placeholder: "sk_live_… or rk_live_…",
          hint: "A secret key, or a restricted key that may read the collections below. Tried before the sync is saved; encrypted at rest, never shown again.",
        },
        {
          field: "stripe_account",
          label: "Connected account",
          placeholder: "acct_…",
          hint: "Optional: pull a connected account of your platform (Stripe Connect) instead of the platform itself.",
        },
      ],
    },
  ],
  collections: Object.keys(stripeCollections),
  defaultBaseUrl: "https://api.stripe.com",
  // Stripe allows 100 operations per second in live mode (25 in test mode); a sync takes a share by default
  defaultRequestsPerSecond: 20,
  maxRequestsPerSecond: 100,
  // two event polls a second (Sequin's own Stripe syncs used 2 requests a second once live): changes land within ~1 s
  defaultPollIntervalSeconds: 0.5,
  checkSettings(settings) {
    return Object.fromEntries(
      Object.keys(settings).map((field) => [field, "is not a Stripe setting (Stripe takes none)"]),
    );
  },
  checkCredentials(credentials) {
    const problems: Record<string, string> = {};
    const key = credentials.api_key;
    if (typeof key !== "string" || key.length === 0)
      problems.api_key = "is required: a Stripe secret or restricted key";
    else if (!/^(sk|rk)_(test|live)_[A-Za-z0-9]+$/.test(key))
      problems.api_key = "must be a Stripe secret key (sk_live_…, sk_test_…) or restricted key (rk_…)";
    const account = credentials.stripe_account;
    if (account !== undefined && (typeof account !== "string" || !/^acct_[A-Za-z0-9]+$/.test(account)))
      problems.stripe_account = "must be a connected account id (acct_…)";
    for (const field of Object.keys(credentials))
      if (field !== "api_key" && field !== "stripe_account")
        problems[field] = "is not a Stripe credential field";
    return problems;
  },
  fingerprint(credentials) {
    return `stripe:${createHash("sha256").update(String(credentials.api_key)).digest("hex").slice(0, 16)}`;
  },
};
