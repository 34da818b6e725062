/** `definePlugin` and the types a plugin author writes against. */
import type { Static, TObject, TProperties } from "@sinclair/typebox";
import type { AttachmentDescriptor, InboundEvent, MessageEvent, MessageRef, PluginManifest, ReactionEvent } from "@session-bot/protocol";
import type { ParsedCommand } from "./command.js";
import { PluginError } from "./errors.js";
import type { PluginLogger } from "./logger.js";
import type { PluginStore } from "./store.js";

/** Same rules as protocol's PLUGIN_NAME_PATTERN / COMMAND_NAME_PATTERN / SEMVER_PATTERN. */
export const PLUGIN_NAME_RE = /^[a-z][a-z0-9_-]{0,31}$/;
const COMMAND_RE = /^[a-z][a-z0-9_-]{0,31}$/;
const SEMVER_RE = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;
const TASK_RE = /^[a-z][a-z0-9_-]{0,31}$/;
/** Most commands one plugin may declare (protocol's MAX_COMMANDS_PER_PLUGIN). */
export const MAX_COMMANDS = 64;
/** Shortest period of a scheduled task. */
export const MIN_TASK_INTERVAL_MS = 250;

/** What a reply may carry. */
export interface ReplyContent {
  /** Message text (≤ 2,000 characters). May be empty when attachments are given. */
  text?: string;
  /** Attachments to send: ids or descriptors returned by `attachments.put` (or inbound ones). */
  attachments?: ReadonlyArray<string | AttachmentDescriptor>;
  /** `true` quotes the message being answered; a MessageRef quotes another message. */
  quote?: boolean | MessageRef;
}

/** Metadata of an attachment being uploaded. */
export interface AttachmentMeta {
  contentType: string;
  fileName?: string;
}

/** Fetch and hand over attachments through the broker. */
export interface Attachments {
  /** The bytes of an attachment (streamed from the broker, bounded by the protocol's attachment limit). */
  get(id: string | AttachmentDescriptor): Promise<Uint8Array>;
  /** Uploads bytes to the broker; returns the descriptor to pass to `reply({ attachments })`. */
  put(bytes: Uint8Array, meta: AttachmentMeta): Promise<AttachmentDescriptor>;
}

/** A plugin as the host lists it (for `/help`). */
export interface PluginSummary {
  readonly name: string;
  readonly version: string;
  readonly description: string;
  readonly commands: ReadonlyArray<{ readonly name: string; readonly description: string; readonly usage?: string; readonly admin: boolean }>;
}

/** Facts about the host running the handler. */
export interface HostInfo {
  /** The bot name (SB_BOT). */
  readonly bot: string;
  /** This worker's instance id. */
  readonly instance: string;
  /**
   * Enabled plugins and their commands: this worker's in load order, then (under plugin-host) the
   * plugins of other workers of the bot, from their manifests in `sb_plugin_manifests`, by name.
   */
  plugins(): readonly PluginSummary[];
  /** Measures one NATS round trip (ms) from this worker. */
  rtt(): Promise<number>;
}

/** What every handler context has, whatever woke it up. */
export interface BaseContext<C> {
  /** The plugin's validated configuration (the current one: reconfiguration applies to the next handler). */
  readonly config: C;
  /** The plugin's own store (NATS KV `sb_state_<plugin>`). */
  readonly store: PluginStore;
  /** A child logger bound to the plugin (and event). */
  readonly log: PluginLogger;
  /** Aborted when the handler runs past its timeout (or the host shuts down): stop work and return. */
  readonly signal: AbortSignal;
  /** Attachments through the broker. */
  readonly attachments: Attachments;
  /** The host. */
  readonly host: HostInfo;
  /** Current time (ms since the epoch); a fake clock in the harness. */
  now(): number;
  /**
   * Sends a message to any conversation. `key` makes it idempotent: the same key never produces
   * two messages (use a stable id, e.g. the reminder id).
   */
  send(conversation: string, content: string | ReplyContent, key: string): Promise<void>;
}

/** The context of a handler woken by an inbound event. */
export interface EventContext<C, E extends InboundEvent = InboundEvent> extends BaseContext<C> {
  /** The event. */
  readonly event: E;
  /** The 1:1 conversation (the peer's Session ID). */
  readonly conversation: string;
  /** The sender's Session ID. */
  readonly sender: string;
  /** Whether the sender is in the host's admin list. */
  readonly isAdmin: boolean;
  /** Replies in the event's conversation. */
  reply(content: string | ReplyContent): Promise<void>;
  /** Adds (or with `remove`) removes a reaction; default target: the event's message. */
  react(emoji: string, options?: { remove?: boolean; target?: MessageRef }): Promise<void>;
  /** Sends a read receipt for the event's message. */
  markRead(): Promise<void>;
  /** Shows (default) or clears the typing indicator. */
  typing(state?: "started" | "stopped"): Promise<void>;
}

/** The context of a message handler. */
export interface MessageContext<C> extends EventContext<C, MessageEvent> {
  /** The message text. */
  readonly text: string;
  /** The parsed command, when the text is one. */
  readonly command: ParsedCommand | undefined;
}

/** The context of a command handler: `command` is always set. */
export interface CommandContext<C> extends MessageContext<C> {
  readonly command: ParsedCommand;
  /** `command.args`. */
  readonly args: readonly string[];
}

/** The context of a scheduled task (no event, no conversation). */
export type TaskContext<C> = BaseContext<C>;

type MaybePromise<T> = T | Promise<T>;

/** A slash command. */
export interface CommandDefinition<C> {
  /** One line shown by `/help`. */
  description: string;
  /** Argument synopsis shown by `/help`, e.g. `<text>`. */
  usage?: string;
  /** Only admins may run it; others get a refusal. */
  admin?: boolean;
  handler(ctx: CommandContext<C>): MaybePromise<void>;
}

/** A periodic job run by exactly one worker at a time (a KV lease elects it). */
export interface TaskDefinition<C> {
  /** Period in ms (≥ 250). */
  everyMs: number;
  run(ctx: TaskContext<C>): MaybePromise<void>;
}

/** What `definePlugin` takes. */
export interface PluginSpec<P extends TProperties = TProperties> {
  /** `[a-z][a-z0-9_-]{0,31}`: the plugin's identity (KV bucket, config key, stats). */
  name: string;
  /** Semantic version. */
  version: string;
  /** One line. */
  description: string;
  /** A TypeBox object schema (JSON Schema) of the configuration; defaults fill missing values. */
  configSchema?: TObject<P>;
  /** Slash commands, by name (without the prefix). */
  commands?: Record<string, CommandDefinition<Static<TObject<P>>>>;
  /** Every visible message (commands included: see `ctx.command`). */
  onMessage?(ctx: MessageContext<Static<TObject<P>>>): MaybePromise<void>;
  /** Reactions added or removed. */
  onReaction?(ctx: EventContext<Static<TObject<P>>, ReactionEvent>): MaybePromise<void>;
  /** Every other event kind (read, typing, request_response, unsend). */
  onEvent?(ctx: EventContext<Static<TObject<P>>>): MaybePromise<void>;
  /** Periodic jobs (e.g. delivering due reminders). */
  tasks?: Record<string, TaskDefinition<Static<TObject<P>>>>;
}

/** Marks values made by `definePlugin`. */
export const PLUGIN_BRAND = Symbol.for("@session-bot/plugin-sdk/plugin");

/** A validated plugin, as `definePlugin` returns it and hosts load it. */
export type Plugin<P extends TProperties = TProperties> = Readonly<PluginSpec<P>> & { readonly [PLUGIN_BRAND]: true };

/** A plugin of any configuration type (what hosts handle). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyPlugin = Plugin<any>;

/**
 * Declares a plugin. Validates the definition (name, version, commands, handlers, schema) and
 * throws `PLUGIN_INVALID_DEFINITION` with every problem listed.
 */
export function definePlugin<P extends TProperties = TProperties>(spec: PluginSpec<P>): Plugin<P> {
  const problems = checkPluginSpec(spec);
  if (problems.length > 0) {
    throw new PluginError("PLUGIN_INVALID_DEFINITION", `invalid plugin ${describeName(spec)}: ${problems.join("; ")}`);
  }
  return Object.freeze({ ...spec, [PLUGIN_BRAND]: true as const });
}

function describeName(spec: unknown): string {
  const name = (spec as { name?: unknown } | null)?.name;
  return typeof name === "string" ? JSON.stringify(name.slice(0, 40)) : "(no name)";
}

/** Every problem of a would-be plugin definition (empty when valid). Also used by hosts on loaded modules. */
export function checkPluginSpec(spec: unknown): string[] {
  const problems: string[] = [];
  if (typeof spec !== "object" || spec === null) return ["a plugin must be an object"];
  const s = spec as Record<string, unknown>;
  if (typeof s.name !== "string" || !PLUGIN_NAME_RE.test(s.name)) problems.push("name must match [a-z][a-z0-9_-]{0,31}");
  if (typeof s.version !== "string" || s.version.length > 64 || !SEMVER_RE.test(s.version)) problems.push("version must be a semantic version (e.g. 1.0.0)");
  if (typeof s.description !== "string" || s.description.length === 0 || s.description.length > 500) problems.push("description must be 1..500 characters");
  if (s.configSchema !== undefined) {
    const schema: unknown = s.configSchema;
    const obj = typeof schema === "object" && schema !== null ? (schema as Record<string, unknown>) : undefined;
    if (obj === undefined || obj.type !== "object" || typeof obj.properties !== "object") {
      problems.push("configSchema must be an object schema (Type.Object({...}))");
    }
  }
  for (const hook of ["onMessage", "onReaction", "onEvent"] as const) {
    if (s[hook] !== undefined && typeof s[hook] !== "function") problems.push(`${hook} must be a function`);
  }
  if (s.commands !== undefined) {
    if (typeof s.commands !== "object" || s.commands === null) problems.push("commands must be an object");
    else {
      const entries = Object.entries(s.commands as Record<string, unknown>);
      if (entries.length > MAX_COMMANDS) problems.push(`at most ${MAX_COMMANDS} commands`);
      for (const [name, def] of entries) {
        if (!COMMAND_RE.test(name)) problems.push(`command ${JSON.stringify(name.slice(0, 40))}: name must match [a-z][a-z0-9_-]{0,31}`);
        const d = def as Record<string, unknown> | null;
        if (typeof d !== "object" || d === null) {
          problems.push(`command ${name}: must be an object`);
          continue;
        }
        if (typeof d.handler !== "function") problems.push(`command ${name}: handler must be a function`);
        if (typeof d.description !== "string" || d.description.length === 0 || d.description.length > 500) problems.push(`command ${name}: description must be 1..500 characters`);
        if (d.usage !== undefined && (typeof d.usage !== "string" || d.usage.length > 200)) problems.push(`command ${name}: usage must be a string of at most 200 characters`);
        if (d.admin !== undefined && typeof d.admin !== "boolean") problems.push(`command ${name}: admin must be a boolean`);
      }
    }
  }
  if (s.tasks !== undefined) {
    if (typeof s.tasks !== "object" || s.tasks === null) problems.push("tasks must be an object");
    else {
      for (const [name, def] of Object.entries(s.tasks as Record<string, unknown>)) {
        const d = def as Record<string, unknown> | null;
        if (!TASK_RE.test(name)) problems.push(`task ${JSON.stringify(name.slice(0, 40))}: name must match [a-z][a-z0-9_-]{0,31}`);
        if (typeof d !== "object" || d === null || typeof d.run !== "function") problems.push(`task ${name}: run must be a function`);
        else if (typeof d.everyMs !== "number" || !Number.isFinite(d.everyMs) || d.everyMs < MIN_TASK_INTERVAL_MS) problems.push(`task ${name}: everyMs must be a number ≥ ${MIN_TASK_INTERVAL_MS}`);
      }
    }
  }
  if (s.onMessage === undefined && s.onReaction === undefined && s.onEvent === undefined && s.tasks === undefined && (s.commands === undefined || Object.keys(s.commands as object).length === 0)) {
    problems.push("a plugin needs at least one command, handler or task");
  }
  return problems;
}

/** True when `value` was made by `definePlugin` (possibly by another copy of the SDK). */
export function isPlugin(value: unknown): value is AnyPlugin {
  return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[PLUGIN_BRAND] === true;
}

/** The summary `/help` shows. */
export function summarize(plugin: AnyPlugin): PluginSummary {
  return {
    name: plugin.name,
    version: plugin.version,
    description: plugin.description,
    commands: Object.entries(plugin.commands ?? {}).map(([name, def]) => ({
      name,
      description: def.description,
      ...(def.usage !== undefined ? { usage: def.usage } : {}),
      admin: def.admin === true,
    })),
  };
}

/** The manifest plugin-host publishes to KV `sb_plugin_manifests` (protocol's PluginManifest). */
export function manifestOf(plugin: AnyPlugin): PluginManifest {
  return {
    v: 1,
    name: plugin.name,
    version: plugin.version,
    description: plugin.description,
    commands: Object.entries(plugin.commands ?? {}).map(([name, def]) => ({
      name,
      description: def.description,
      ...(def.usage !== undefined ? { usage: def.usage } : {}),
      ...(def.admin === true ? { adminOnly: true } : {}),
    })),
    ...(plugin.configSchema ? { configSchema: manifestConfigSchema(plugin.configSchema) } : {}),
  };
}

/**
 * The config schema as the manifest publishes it: plain JSON Schema (the JSON round trip drops
 * TypeBox's symbol keys), and a property with a `default` is not `required` — the host fills
 * defaults before validating, so a config record may leave such properties out, and a validator
 * working from the manifest alone (the gateway) must accept the same records.
 */
export function manifestConfigSchema(schema: object): Record<string, unknown> {
  const relax = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(relax);
    if (typeof node !== "object" || node === null) return node;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) out[k] = relax(v);
    const props = out.properties as Record<string, { default?: unknown }> | undefined;
    if (Array.isArray(out.required) && typeof props === "object" && props !== null) {
      const required = (out.required as string[]).filter((name) => props[name]?.default === undefined);
      if (required.length > 0) out.required = required;
      else delete out.required;
    }
    return out;
  };
  return relax(JSON.parse(JSON.stringify(schema))) as Record<string, unknown>;
}
