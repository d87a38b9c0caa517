/**
 * The providers a sync can pull, and how each one's source is built. A provider is added here once its
 * folder passes ADD-SOURCE.md's checklist.
 */
import type { ProviderHttp, ProviderRules } from "./provider-http.js";
import type { Source, SourceKind } from "./source.js";
import { stripeKind } from "./stripe/stripe-kind.js";
import { stripeRules } from "./stripe/stripe-rules.js";
import { StripeSource } from "./stripe/stripe-source.js";

export interface SourceFactory {
  kind: SourceKind;
  rules: ProviderRules;
  /** The headers every request carries, from the credential. */
  headers(credentials: Record<string, unknown>): Record<string, string>;
  build(http: ProviderHttp): Source;
}

const stripe: SourceFactory = {
  kind: stripeKind,
  rules: stripeRules,
  headers: (credentials) => ({
    authorization: `Bearer ${String(credentials.api_key)}`,
    ...(typeof credentials.stripe_account === "string"
      ? { "stripe-account": credentials.stripe_account }
      : {}),
  }),
  build: (http) => new StripeSource(http),
};

export const sourceFactories: ReadonlyMap<string, SourceFactory> = new Map([["stripe", stripe]]);
