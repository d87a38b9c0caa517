/** HubSpot's entry in the providers' map (source-kinds.ts): its kind, rules, session and source. */
import type { SourceFactory } from "../source-kinds.js";
import { hubspotKind, lookbackMs } from "./hubspot-kind.js";
import { hubspotRules } from "./hubspot-rules.js";
import { hubspotSession } from "./hubspot-session.js";
import { HubSpotSource } from "./hubspot-source.js";

export const hubspotFactory: SourceFactory = {
  kind: hubspotKind,
  rules: hubspotRules,
  session: (context) => hubspotSession(context),
  build: (http, context) =>
    new HubSpotSource(http, {
      fingerprint: hubspotKind.fingerprint(context.credentials),
      lookbackMs: lookbackMs(context.settings),
    }),
};
