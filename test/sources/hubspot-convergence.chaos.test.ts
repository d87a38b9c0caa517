/**
 * The HubSpot convergence test with many more drawn runs (SEQUIN_CHAOS_RUNS, 20 by default): `npm run chaos`.
 */
process.env.HUBSPOT_CONVERGENCE_RUNS ??= process.env.SEQUIN_CHAOS_RUNS ?? "20";
await import("./hubspot-convergence.test.js");
