/** Registered targets (the user's databases) and the Postgres target library. */

export * from "./target-schemas.js";
export { Targets } from "./targets.js";
