/** How a Salesforce sync's source is built: its kind, rules, session and source, for source-kinds.ts. */
import type { SourceFactory } from "../source-kinds.js";
import { salesforceKind, salesforceSettings } from "./salesforce-kind.js";
import { salesforceRules } from "./salesforce-rules.js";
import { salesforceSession } from "./salesforce-session.js";
import { SalesforceSource } from "./salesforce-source.js";

export const salesforceFactory: SourceFactory = {
  kind: salesforceKind,
  rules: salesforceRules,
  session: salesforceSession,
  build: (http, { baseUrl, settings }) => new SalesforceSource(http, baseUrl, salesforceSettings(settings)),
};
