/**
 * Salesforce as a provider: collections are sObject names (the standard ones listed, any other standard or
 * custom object by name), the REST API version we speak (one place), the defaults, the credential's fields
 * and the settings. The credential's `instance_url` is the sync's base URL when none is given, and the
 * setting `objects` its collections when none are given (the API contract's forms). Facts:
 * docs/sources/salesforce.md.
 */
import { createHash } from "node:crypto";
import type { SourceKind } from "../source.js";

/** The REST API version every request names (Winter '25). */
export const SALESFORCE_API_VERSION = "62.0";
export const apiPath = `/services/data/v${SALESFORCE_API_VERSION}`;

export const defaultLoginUrl = "https://login.salesforce.com";

export interface SalesforceSettings {
  /** Changes are read again this far back on every poll: records that commit late with an older stamp. */
  lookbackSeconds: number;
  /** How often the delete log (`/sobjects/{T}/deleted`) is read per collection. */
  deletedCheckSeconds: number;
  /** Pulling stops (failing, retried) while the org has used this share of its daily API requests. */
  dailyQuotaPercent: number;
}

export const defaultSettings: SalesforceSettings = {
  lookbackSeconds: 300,
  deletedCheckSeconds: 60,
  dailyQuotaPercent: 100,
};

const settingRules: Record<
  string,
  { key: keyof SalesforceSettings; min: number; max: number; what: string }
> = {
  lookback_seconds: { key: "lookbackSeconds", min: 0, max: 86_400, what: "seconds" },
  deleted_check_seconds: { key: "deletedCheckSeconds", min: 1, max: 86_400, what: "seconds" },
  daily_quota_percent: { key: "dailyQuotaPercent", min: 1, max: 100, what: "percent" },
};

/**
 * The settings with their defaults; call after checkSettings accepted them. `objects` is not among them: it
 * names the sync's collections, which the source is given as such.
 */
export function salesforceSettings(settings: Record<string, unknown>): SalesforceSettings {
  const out = { ...defaultSettings };
  for (const [field, rule] of Object.entries(settingRules))
    if (typeof settings[field] === "number") out[rule.key] = settings[field] as number;
  return out;
}

/** The known settings: the numbers above, and the objects to pull. */
const settingNames = [...Object.keys(settingRules), "objects"];

const standardCollections = ["Account", "Contact", "Opportunity", "Lead", "Case", "User"];

/** A custom object (Invoice__c, ns__Invoice__c) or a standard one (Campaign, OpportunityLineItem). */
function isObjectName(name: string): boolean {
  return (
    /^[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)*(?:__[A-Za-z0-9]+)?__c$/.test(name) ||
    /^[A-Z][A-Za-z0-9]{1,79}$/.test(name)
  );
}

const credentialNames = [
  "access_token",
  "refresh_token",
  "client_id",
  "client_secret",
  "login_url",
  "token_url",
  "instance_url",
];

/** An address without a path (`https://yourorg.my.salesforce.com`), a trailing slash allowed. */
const bareAddress = /^https?:\/\/[^/\s]+\/?$/;

const isHttpUrl = (value: string) => URL.canParse(value) && /^https?:$/.test(new URL(value).protocol);

const instanceUrlField = {
  field: "instance_url",
  label: "Instance URL",
  placeholder: "https://yourdomain.my.salesforce.com",
  hint: "Optional: your org's address, e.g. https://yourdomain.my.salesforce.com, where its API lives; or set Base URL under Advanced.",
};

export const salesforceKind: SourceKind = {
  provider: "salesforce",
  label: "Salesforce",
  // The refresh-token flow renews its session by itself; an access token alone works until it expires.
  credentialChoices: [
    {
      id: "oauth",
      label: "Connected app (refresh token)",
      fields: [
        {
          field: "refresh_token",
          label: "Refresh token",
          secret: true,
          required: true,
          placeholder: "5Aep861…",
          hint: "From your connected app's OAuth flow (scopes: api, refresh_token). The sync renews its session with it by itself.",
        },
        {
          field: "client_id",
          label: "Consumer key",
          required: true,
          placeholder: "3MVG9…",
          hint: "Your connected app's consumer key (client id).",
        },
        {
          field: "client_secret",
          label: "Consumer secret",
          secret: true,
          required: true,
          hint: "Your connected app's consumer secret.",
        },
        {
          field: "login_url",
          label: "Login URL",
          placeholder: defaultLoginUrl,
          hint: "Optional: https://test.salesforce.com for a sandbox, or your My Domain login address.",
        },
        {
          field: "token_url",
          label: "Token URL",
          placeholder: `${defaultLoginUrl}/services/oauth2/token`,
          hint: "Optional, instead of the login URL: the whole address of the token endpoint.",
        },
        instanceUrlField,
      ],
    },
    {
      id: "access_token",
      label: "Access token only",
      fields: [
        {
          field: "access_token",
          label: "Access token",
          secret: true,
          required: true,
          placeholder: "00D…!AQ…",
          hint: "A session's access token (scope api). It is never renewed: when it expires the sync fails with Salesforce's INVALID_SESSION_ID until it is given a new one (PATCH /v1/syncs/{id} or the config file). For a sync that runs for good, use a connected app.",
        },
        instanceUrlField,
      ],
    },
  ],
  settingFields: [
    {
      field: "lookback_seconds",
      label: "Look-back (seconds)",
      type: "number",
      placeholder: String(defaultSettings.lookbackSeconds),
      hint: `Each poll reads again this far behind the newest change seen: a record can commit with an older SystemModstamp. 0 to 86400; empty: ${defaultSettings.lookbackSeconds}.`,
    },
    {
      field: "deleted_check_seconds",
      label: "Delete log interval (seconds)",
      type: "number",
      placeholder: String(defaultSettings.deletedCheckSeconds),
      hint: `How often each collection's delete log (/sobjects/{type}/deleted) is read. 1 to 86400; empty: ${defaultSettings.deletedCheckSeconds}.`,
    },
    {
      field: "daily_quota_percent",
      label: "Daily quota share (%)",
      type: "number",
      placeholder: String(defaultSettings.dailyQuotaPercent),
      hint: `Pulling pauses (failing, then resumes) while the org has used this share of its daily API requests, leaving the rest to other apps. 1 to 100; empty: ${defaultSettings.dailyQuotaPercent}.`,
    },
  ],
  collections: standardCollections,
  // the sync's base_url is the org's instance URL (or the credential's instance_url); this default is refused
  // with a message saying so
  defaultBaseUrl: defaultLoginUrl,
  // Sequin's default allotment of a Salesforce org: 28,800 requests a day, one every 3 s
  defaultRequestsPerSecond: 1 / 3,
  // Salesforce has no per-second limit, but at most 25 long-running requests at once in production
  maxRequestsPerSecond: 25,
  defaultPollIntervalSeconds: 5,
  offersCollection: isObjectName,
  baseUrlFrom(credentials) {
    const url = credentials.instance_url;
    // a malformed one is refused by checkCredentials under its own name
    return typeof url === "string" && bareAddress.test(url)
      ? { field: "instance_url", url: url.replace(/\/$/, "") }
      : undefined;
  },
  collectionsFrom(settings) {
    const objects = settings.objects;
    return Array.isArray(objects) && objects.length > 0 && objects.every((o) => typeof o === "string")
      ? { field: "objects", collections: objects as string[] }
      : undefined;
  },
  checkSettings(settings) {
    const problems: Record<string, string> = {};
    for (const [field, value] of Object.entries(settings)) {
      const rule = settingRules[field];
      if (field === "objects") {
        if (!Array.isArray(value) || value.length === 0)
          problems.objects = 'must be a non-empty list of sObject API names, e.g. ["Account", "Invoice__c"]';
        else
          value.forEach((name, i) => {
            if (typeof name !== "string" || !(standardCollections.includes(name) || isObjectName(name)))
              problems[`objects[${i}]`] =
                `must be an sObject API name, e.g. Account or Invoice__c (got ${JSON.stringify(name)})`;
          });
      } else if (!rule) problems[field] = `is not a Salesforce setting (${settingNames.join(", ")})`;
      else if (typeof value !== "number" || !Number.isFinite(value) || value < rule.min || value > rule.max)
        problems[field] = `must be a number of ${rule.what} from ${rule.min} to ${rule.max}`;
    }
    return problems;
  },
  checkCredentials(credentials) {
    const problems: Record<string, string> = {};
    for (const field of Object.keys(credentials))
      if (!credentialNames.includes(field)) problems[field] = "is not a Salesforce credential field";
    for (const field of credentialNames) {
      const value = credentials[field];
      if (value !== undefined && (typeof value !== "string" || value.length === 0))
        problems[field] = "must be a non-empty string";
    }
    const has = (field: string) => typeof credentials[field] === "string" && credentials[field] !== "";
    if (has("refresh_token")) {
      if (!has("client_id"))
        problems.client_id = "is required with a refresh token: the connected app's consumer key";
      if (!has("client_secret"))
        problems.client_secret = "is required with a refresh token: the connected app's consumer secret";
    } else if (!has("access_token"))
      problems.access_token =
        "is required: an access token, or a refresh token with client_id and client_secret";
    const login = credentials.login_url;
    if (typeof login === "string" && login !== "" && !bareAddress.test(login))
      problems.login_url = "must be an http(s) address without a path, e.g. https://login.salesforce.com";
    const instance = credentials.instance_url;
    if (typeof instance === "string" && instance !== "" && !bareAddress.test(instance))
      problems.instance_url =
        "must be an http(s) address without a path: your org's, e.g. https://yourdomain.my.salesforce.com";
    const token = credentials.token_url;
    if (typeof token === "string" && token !== "") {
      if (!isHttpUrl(token))
        problems.token_url =
          "must be an http(s) URL: the whole token endpoint, e.g. https://login.salesforce.com/services/oauth2/token";
      else if (has("login_url"))
        problems.token_url =
          "give token_url or login_url, not both: token_url is the whole token endpoint, login_url only its address";
    }
    return problems;
  },
  fingerprint(credentials) {
    const secret = String(credentials.refresh_token ?? credentials.access_token);
    return `salesforce:${createHash("sha256").update(secret).digest("hex").slice(0, 16)}`;
  },
};
