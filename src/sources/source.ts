/**
 * What a provider's source must do, so the engine (source-runner.ts) can run any of them the same way:
 * backfill each collection page by page, then follow the provider's changes from a cursor taken before the
 * backfill began, with deletes. ADD-SOURCE.md is the checklist for writing one.
 *
 * Every call goes through the source's ProviderHttp (one allotment per credential); failures are
 * ProviderErrors (refused / unavailable / invalid_answer), which the engine turns into the sync's health.
 */

/** One object as pulled: its newest known state, or its deletion. */
export interface PulledRecord {
  collection_id: string;
  upstream_id: string;
  /** The object as the provider's API returns it now; null when deleted. */
  payload: Record<string, unknown> | null;
  deleted: boolean;
}

export interface BackfillPage {
  records: PulledRecord[];
  /** The token of the next page, or null after the last. */
  next: string | null;
}

export type ChangesPage =
  | {
      records: PulledRecord[];
      /** The cursor after these changes (stored with them, in the same transaction). */
      cursor: unknown;
      /** More changes are waiting right after this cursor. */
      more: boolean;
    }
  /** The cursor is past the provider's horizon: changes were lost; everything must be read again. */
  | { expired: string };

export interface Source {
  readonly provider: string;
  /** Tries the credential with one cheap request; a refusal is a ProviderError with the provider's reason. */
  verify(signal?: AbortSignal): Promise<void>;
  /** The change cursor as of now: taken before a backfill's first page, so nothing changed during it is lost. */
  changeMark(signal?: AbortSignal): Promise<unknown>;
  /** One page of a collection's objects; `token` null for the first. */
  backfillPage(collection: string, token: string | null, signal?: AbortSignal): Promise<BackfillPage>;
  /** The changes after `cursor` to the given collections, oldest first, one page at a time. */
  changesSince(cursor: unknown, collections: readonly string[], signal?: AbortSignal): Promise<ChangesPage>;
}

/** One field of a provider's credential, as the console's form asks for it and a config export names it. */
export interface CredentialField {
  field: string;
  label: string;
  /** A secret: a password input, never shown again. */
  secret?: boolean;
  required?: boolean;
  hint: string;
  placeholder?: string;
}

/**
 * One way to give a provider's credential: a key alone, or an OAuth app's refresh token with its client. The
 * console offers a kind's choices side by side; a config export names the first one's required fields.
 */
export interface CredentialChoice {
  /** Stable, for the form's radio: "key", "oauth". */
  id: string;
  /** What a person picks: "Service key or private app token". */
  label: string;
  /** Its fields, in the order a person fills them in. */
  fields: readonly CredentialField[];
}

/**
 * One of a provider's settings (`source.settings.<field>`), as the console's form asks for it. A required
 * one is asked for next to the collections; an optional one sits under Advanced, its default in the hint.
 */
export interface SettingField {
  field: string;
  label: string;
  /** `list`: several values, one per line (or separated by commas); `number`: a decimal number. */
  type: "list" | "number";
  required?: boolean;
  hint: string;
  placeholder?: string;
}

/** What a provider offers: its collections, defaults, and how to build its source from a sync's settings. */
export interface SourceKind {
  provider: string;
  /** The provider's name as people write it ("HubSpot"). */
  label: string;
  /** The ways to give the credential; the first is the usual one. */
  credentialChoices: readonly [CredentialChoice, ...CredentialChoice[]];
  /** The settings a person may give (checked by `checkSettings`); none when absent. */
  settingFields?: readonly SettingField[];
  /** The collections it can pull, by the names records carry. */
  collections: readonly string[];
  defaultBaseUrl: string;
  /** This sync's default share of the provider's rate limit. */
  defaultRequestsPerSecond: number;
  /** The most a sync may ask for (the provider's documented limit). */
  maxRequestsPerSecond: number;
  defaultPollIntervalSeconds: number;
  /**
   * Collections named by the user rather than listed (Salesforce's custom objects, `Invoice__c`): whether
   * `name` is one; the listed `collections` stay the default set.
   */
  offersCollection?(name: string): boolean;
  /** The base URL a credential names (Salesforce's `instance_url`): the default, and what a given one must equal. */
  baseUrlFrom?(credentials: Record<string, unknown>): { field: string; url: string } | undefined;
  /** The collections a setting names (Salesforce's `objects`): the default, and what given ones must equal. */
  collectionsFrom?(settings: Record<string, unknown>): { field: string; collections: string[] } | undefined;
  /**
   * Whether a change of settings leaves records in the stream that no longer belong to the sync (GitHub:
   * a repository taken out of the list): the reason to read everything again, deleting at the end what was
   * not read; undefined when what was pulled still belongs.
   */
  rereadAfter?(before: Record<string, unknown>, after: Record<string, unknown>): string | undefined;
  /** Checks the provider's settings (e.g. GitHub's repositories); returns a message per bad field. */
  checkSettings?(settings: Record<string, unknown>): Record<string, string>;
  /** Checks the credential object's fields; returns a message per bad field. */
  checkCredentials(credentials: Record<string, unknown>): Record<string, string>;
  /** A stable fingerprint of the credential (never the secret): syncs sharing it share its allotment. */
  fingerprint(credentials: Record<string, unknown>): string;
}
