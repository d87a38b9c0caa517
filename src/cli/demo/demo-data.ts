/** Made-up HubSpot contacts for the demo: realistic shapes, deterministic content. */
import type { IncomingRecord } from "../../stream/index.js";

const stages = ["subscriber", "lead", "marketingqualifiedlead", "customer"] as const;
const firstNames = [
  "Ada",
  "Grace",
  "Linus",
  "Barbara",
  "Ken",
  "Margaret",
  "Edsger",
  "Frances",
  "Dennis",
  "Radia",
];
const companies = ["Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark"];

export function demoContact(i: number, at: Date, stage?: (typeof stages)[number]): IncomingRecord {
  const first = firstNames[i % firstNames.length]!;
  return {
    collection_id: "contact",
    upstream_id: String(1000 + i),
    upstream_updated_at: at.toISOString(),
    payload: {
      firstname: first,
      lastname: `Example-${i}`,
      email: `${first.toLowerCase()}.${i}@example.com`,
      company: companies[i % companies.length],
      lifecyclestage: stage ?? stages[i % stages.length],
      hubspot_owner_id: String(200 + (i % 5)),
      createdate: new Date(Date.UTC(2024, 0, 1 + (i % 300))).toISOString().slice(0, 19),
    },
  };
}
