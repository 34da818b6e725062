export { Stack, Service, freePort, until, sleep, REPO_ROOT } from "./stack.js";
export type { StackOptions } from "./stack.js";
export { runChaos } from "./chaos.js";
export type { ChaosOptions, ChaosResult } from "./chaos.js";
export { findSecrets, secretForms } from "./secrets.js";
export type { SecretLeak } from "./secrets.js";
