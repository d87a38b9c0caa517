/**
 * The providers a sync can pull, and how each one's source is built. A provider is added here once its
 * folder passes ADD-SOURCE.md's checklist.
 */
import { githubFactory } from "./github/github-factory.js";
import { hubspotFactory } from "./hubspot/hubspot-factory.js";
import type { ProviderHttp, ProviderRules } from "./provider-http.js";
import { salesforceFactory } from "./salesforce/salesforce-factory.js";
import type { Source, SourceKind } from "./source.js";
import { stripeKind } from "./stripe/stripe-kind.js";
import { stripeRules } from "./stripe/stripe-rules.js";
import { StripeSource } from "./stripe/stripe-source.js";

/** What a source is built from: the sync's stored settings, decrypted credential and address. */
export interface SourceContext {
  credentials: Record<string, unknown>;
  settings: Record<string, unknown>;
  baseUrl: string;
}

/**
 * How requests carry the credential. A static key needs only `headers`; an OAuth credential also renews
 * its access token (`reauthorize`, called once when the provider's rules say the session ended; a session
 * may also renew ahead of an expiry it knows, inside `headers`).
 */
export interface CredentialSession {
  headers(signal?: AbortSignal): Record<string, string> | Promise<Record<string, string>>;
  reauthorize?(signal?: AbortSignal): Promise<void>;
}

export interface SourceFactory {
  kind: SourceKind;
  rules: ProviderRules;
  /** The credential's session; one per built source (a renewed token lives as long as the runner). */
  session(context: SourceContext): CredentialSession;
  build(http: ProviderHttp, context: SourceContext): Source;
}

const stripe: SourceFactory = {
  kind: stripeKind,
  rules: stripeRules,
  session: ({ credentials }) => ({
    headers: () => ({
      authorization: `Bearer ${String(credentials.api_key)}`,
      ...(typeof credentials.stripe_account === "string"
        ? { "stripe-account": credentials.stripe_account }
        : {}),
    }),
  }),
  build: (http) => new StripeSource(http),
};

export const sourceFactories: ReadonlyMap<string, SourceFactory> = new Map([
  ["stripe", stripe],
  ["hubspot", hubspotFactory],
  ["github", githubFactory],
  ["salesforce", salesforceFactory],
]);

/**
 * Whether a credential field of `provider` holds a secret: every field but those its kind lists as plain
 * (an account id, an address, an OAuth client id), so a config file may write those inline. A field or a
 * provider the kinds do not know is a secret.
 */
export function isSecretCredential(provider: string, field: string): boolean {
  const kind = sourceFactories.get(provider)?.kind;
  const listed = kind?.credentialChoices.flatMap((c) => c.fields).filter((f) => f.field === field) ?? [];
  return listed.length === 0 || listed.some((f) => f.secret === true);
}
