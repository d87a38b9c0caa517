/**
 * HubSpot as a provider: the CRM objects we pull (records carry HubSpot's object type names), the
 * defaults, the credential's fields (a service key or a private app's token, or an OAuth app's refresh
 * token with its client id and secret) and the settings. Facts and what each limit means: docs/sources/hubspot.md.
 */
import { createHash } from "node:crypto";
import type { SourceKind } from "../source.js";

/** CRM objects read through `/crm/v3/objects/{type}`, and the property each one's last change is in. */
export const hubspotObjects: Readonly<Record<string, { modifiedProperty: string }>> = {
  contacts: { modifiedProperty: "lastmodifieddate" },
  companies: { modifiedProperty: "hs_lastmodifieddate" },
  deals: { modifiedProperty: "hs_lastmodifieddate" },
  tickets: { modifiedProperty: "hs_lastmodifieddate" },
  products: { modifiedProperty: "hs_lastmodifieddate" },
  line_items: { modifiedProperty: "hs_lastmodifieddate" },
};

/** Owners come from `/crm/v3/owners`, which has no search: see hubspot-owners.ts. */
export const OWNERS = "owners";

export const defaultLookbackSeconds = 120;
export const maxLookbackSeconds = 3600;

const credentialFieldNames = ["access_token", "refresh_token", "client_id", "client_secret"] as const;

export const hubspotKind: SourceKind = {
  provider: "hubspot",
  label: "HubSpot",
  credentialChoices: [
    {
      id: "key",
      label: "Service key or private app token",
      fields: [
        {
          field: "access_token",
          label: "Service key or private app token",
          secret: true,
          required: true,
          placeholder: "pat-na1-…",
          hint: "A service key (Development → Keys → Service keys) or a legacy private app's token, with the read scopes of the collections below (crm.objects.contacts.read, …, crm.objects.owners.read). Tried before the sync is saved; encrypted at rest, never shown again.",
        },
      ],
    },
    {
      id: "oauth",
      label: "OAuth app",
      fields: [
        {
          field: "refresh_token",
          label: "OAuth refresh token",
          secret: true,
          required: true,
          hint: "A refresh token of your OAuth app's install (same read scopes); access tokens are renewed from it before they expire.",
        },
        {
          field: "client_id",
          label: "OAuth client id",
          required: true,
          hint: "Your app's client id.",
        },
        {
          field: "client_secret",
          label: "OAuth client secret",
          secret: true,
          required: true,
          hint: "Your app's client secret.",
        },
      ],
    },
  ],
  settingFields: [
    {
      field: "lookback_seconds",
      label: "Search look-back (seconds)",
      type: "number",
      placeholder: String(defaultLookbackSeconds),
      hint: `Each search reads again this far behind the last one: HubSpot's search shows a change a while after it is made. Whole seconds, at most ${maxLookbackSeconds}; empty: ${defaultLookbackSeconds}.`,
    },
  ],
  collections: [...Object.keys(hubspotObjects), OWNERS],
  defaultBaseUrl: "https://api.hubapi.com",
  // max_requests_per_second is the 10-second rolling limit divided by ten: 100 per 10 s (Free, Starter) is
  // 10/s, 190 (Professional, Enterprise) 19/s, 250 with the capacity pack 25/s. The default takes half of
  // the lowest tier, so the portal's other apps keep room.
  defaultRequestsPerSecond: 5,
  maxRequestsPerSecond: 25,
  // each poll costs a search and an archived-list read per collection; every 30 s, seven collections use
  // about 40,000 requests a day of the 250,000 the lowest tier allows
  defaultPollIntervalSeconds: 30,
  checkCredentials(credentials) {
    const problems: Record<string, string> = {};
    for (const field of Object.keys(credentials))
      if (!(credentialFieldNames as readonly string[]).includes(field))
        problems[field] = "is not a HubSpot credential field";
    const given = (field: string) => credentials[field] !== undefined && credentials[field] !== "";
    const text = (field: string) => typeof credentials[field] === "string" && credentials[field] !== "";
    if (given("access_token")) {
      if (!text("access_token") || !/^[A-Za-z0-9_.:-]+$/.test(credentials.access_token as string))
        problems.access_token = "must be a HubSpot service key or private app access token (pat-…)";
      for (const field of ["refresh_token", "client_id", "client_secret"])
        if (given(field)) problems[field] = "goes with an OAuth app, not with an access token";
      return problems;
    }
    if (!given("refresh_token") && !given("client_id") && !given("client_secret")) {
      problems.access_token =
        "is required: a service key or private app token, or instead refresh_token, client_id and client_secret";
      return problems;
    }
    for (const field of ["refresh_token", "client_id", "client_secret"])
      if (!text(field))
        problems[field] = "is required with an OAuth app (refresh_token, client_id, client_secret)";
    return problems;
  },
  checkSettings(settings) {
    const problems: Record<string, string> = {};
    for (const [field, value] of Object.entries(settings)) {
      if (field !== "lookback_seconds") problems[field] = "is not a HubSpot setting (lookback_seconds)";
      else if (
        typeof value !== "number" ||
        !Number.isInteger(value) ||
        value < 0 ||
        value > maxLookbackSeconds
      )
        problems[field] = `must be a whole number of seconds from 0 to ${maxLookbackSeconds}`;
    }
    return problems;
  },
  fingerprint(credentials) {
    const secret =
      typeof credentials.access_token === "string" && credentials.access_token !== ""
        ? credentials.access_token
        : `${String(credentials.client_id)}:${String(credentials.refresh_token)}`;
    return `hubspot:${createHash("sha256").update(secret).digest("hex").slice(0, 16)}`;
  },
};

/** How far back each search pass reaches behind the last one (search is eventually consistent). */
export function lookbackMs(settings: Record<string, unknown>): number {
  const seconds = settings.lookback_seconds;
  return (typeof seconds === "number" ? seconds : defaultLookbackSeconds) * 1000;
}
