export { definePlugin, checkPluginSpec, isPlugin, summarize, manifestOf, manifestConfigSchema, PLUGIN_BRAND, PLUGIN_NAME_RE, MAX_COMMANDS, MIN_TASK_INTERVAL_MS } from "./define.js";
export type {
  AnyPlugin,
  AttachmentMeta,
  Attachments,
  BaseContext,
  CommandContext,
  CommandDefinition,
  EventContext,
  HostInfo,
  MessageContext,
  Plugin,
  PluginSpec,
  PluginSummary,
  ReplyContent,
  TaskContext,
  TaskDefinition,
} from "./define.js";
export { parseCommand, splitArgs, COMMAND_NAME_RE } from "./command.js";
export type { ParsedCommand } from "./command.js";
export { PluginError, isPluginError, PLUGIN_ERROR_CODES } from "./errors.js";
export type { PluginErrorCode } from "./errors.js";
export { createStore, MemoryStoreBackend, assertStoreKey, conversationToken, MAX_STORE_KEY_LENGTH, MAX_STORE_VALUE_BYTES } from "./store.js";
export type { JsonValue, PluginStore, StoreBackend } from "./store.js";
export { memoryLogger } from "./logger.js";
export type { LogFn, LogRecord, PluginLogger } from "./logger.js";
export { resolveConfig, compileConfigSchema } from "./config.js";
export { Type } from "@sinclair/typebox";
export type { Static } from "@sinclair/typebox";
