/** Registered targets (the user's databases) and the Postgres target library. */

export { generateSshKeyPair, type SshKeyPair, sshFingerprint } from "./ssh-key-pair.js";
export { SshKeys } from "./ssh-keys.js";
export { type TargetCheckName, type TargetFacts, targetFix, targetHealth } from "./target-health.js";
export * from "./target-schemas.js";
export { Targets } from "./targets.js";
