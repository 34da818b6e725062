export { buildApp, ADMIN_PREFIX } from "./app.js";
export type { AppDeps } from "./app.js";
export { loadConfig, ConfigSchema } from "./config.js";
export type { Config } from "./config.js";
export { GatewayError, GATEWAY_ERROR_CODES, isGatewayError } from "./errors.js";
export type { GatewayErrorCode, GatewayErrorDetails } from "./errors.js";
export { createNatsFleet } from "./fleet/fleet.js";
export type { Fleet, FleetOptions, FleetSnapshot } from "./fleet/fleet.js";
export { createLogger } from "./logger.js";
