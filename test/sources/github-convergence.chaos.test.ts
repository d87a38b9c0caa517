/**
 * The GitHub convergence model test (github-convergence.test.ts), longer: 25 drawn sequences instead of two.
 * Run by `npm run chaos`, not by `npm test`.
 */
process.env.GITHUB_CONVERGENCE_RUNS = "25";
await import("./github-convergence.test.js");
