// Public surface of @session-bot/broker (for tests and embedding); the service itself runs src/main.ts.
export { buildApp, BROKER_VERSION } from "./app.js";
export type { AppDeps, BrokerApp } from "./app.js";
export { loadConfig, Secret, ENV_VARIABLES, MAINNET_SEED_URLS } from "./config.js";
export type { BrokerConfig, FaultHook, IdentitySource, NatsAuth, NetworkConfig } from "./config.js";
export { BrokerError, ConfigError, BROKER_ERROR_CODES, hasCode } from "./errors.js";
export type { BrokerErrorCode } from "./errors.js";
export { openDatabase, MIGRATIONS_FOLDER } from "./db/database.js";
export type { OpenDatabase, BrokerDb } from "./db/database.js";
export { BrokerStore } from "./db/store.js";
export { SqliteStorage } from "./session/sqlite-storage.js";
export { createLogger } from "./logger.js";
export { createMetrics } from "./metrics.js";
export type { BrokerMetrics } from "./metrics.js";
