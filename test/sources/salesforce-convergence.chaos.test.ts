/**
 * The Salesforce convergence test with many more drawn runs (SEQUIN_CHAOS_RUNS, 20 by default): `npm run chaos`.
 */
process.env.SALESFORCE_CONVERGENCE_RUNS ??= process.env.SEQUIN_CHAOS_RUNS ?? "20";
await import("./salesforce-convergence.test.js");
