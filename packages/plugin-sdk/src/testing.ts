/**
 * `@session-bot/plugin-sdk/testing`: run a plugin in-process, feed it events, assert on what it
 * did. Same routing, admin gating, timeout and action ids as plugin-host (both use the SDK
 * runtime); the store and the attachments are in memory, the bus is an outbox array.
 */
import { createHash } from "node:crypto";
import type { AttachmentDescriptor, InboundEvent, MessageEvent, MessageRef, OutboundAction, ReactionEvent, SendAction } from "@session-bot/protocol";
import { parseInboundEvent } from "@session-bot/protocol";
import { resolveConfig } from "./config.js";
import { isPlugin, summarize, type AnyPlugin, type AttachmentMeta, type PluginSummary } from "./define.js";
import { PluginError } from "./errors.js";
import { memoryLogger, type LogRecord } from "./logger.js";
import { invokePlugin, runTask, type InvokeResult, type RuntimeDeps } from "./runtime.js";
import { MemoryStoreBackend, createStore, type PluginStore } from "./store.js";

/** A Session ID the harness uses as the default sender. */
export const TEST_USER = `05${"a1".repeat(32)}`;
/** A Session ID the harness treats as an admin by default. */
export const TEST_ADMIN = `05${"ad".repeat(32)}`;
/** A second ordinary user. */
export const TEST_OTHER_USER = `05${"b2".repeat(32)}`;

/** Options of {@link createHarness}. */
export interface HarnessOptions {
  /** The plugin's raw configuration (defaults filled and validated like the host does). */
  config?: Record<string, unknown>;
  /** Admin Session IDs (default: [TEST_ADMIN]). */
  admins?: readonly string[];
  /** Start time of the fake clock (ms; default 2026-01-01T00:00:00Z). */
  now?: number;
  /** Handler timeout (default 5,000 ms). */
  timeoutMs?: number;
  /** Other plugins listed by `ctx.host.plugins()` (e.g. to test a help plugin). */
  otherPlugins?: readonly AnyPlugin[];
  /** Bot name (default `testbot`). */
  bot?: string;
  /** Round trip reported by `ctx.host.rtt()` (default 1 ms). */
  rttMs?: number;
  /** Command prefix (default `/`). */
  commandPrefix?: string;
}

/** What one event or tick produced. */
export interface HarnessResult {
  /** New outbound actions (duplicates of earlier ids removed, as JetStream would). */
  readonly actions: readonly OutboundAction[];
  /** The `send` actions among them. */
  readonly replies: readonly SendAction[];
  /** The texts of the replies. */
  readonly texts: readonly string[];
  /** Whether the plugin handled the event. */
  readonly handled: boolean;
}

/** Options of a fed message. */
export interface MessageOptions {
  /** Sender (default TEST_USER); also the conversation. */
  from?: string;
  attachments?: readonly AttachmentDescriptor[];
  quote?: MessageEvent["quote"];
  /** Event id (default: a new one). Reuse one to simulate a redelivery. */
  id?: string;
}

/** An in-process plugin runner for tests. */
export interface Harness {
  readonly plugin: AnyPlugin;
  /** The plugin's store (in memory), to seed or inspect state. */
  readonly store: PluginStore;
  /** Every action so far, deduplicated by id. */
  readonly outbox: readonly OutboundAction[];
  /** Captured log lines. */
  readonly logs: readonly LogRecord[];
  /** Uploaded attachments by id. */
  readonly uploads: ReadonlyMap<string, { bytes: Uint8Array; meta: AttachmentMeta }>;
  /** Feeds a text message (rejects with the PluginError if the plugin fails). */
  message(text: string, options?: MessageOptions): Promise<HarnessResult>;
  /** Feeds a reaction to `target` (default: a message of the bot). */
  reaction(emoji: string, options?: { from?: string; op?: "add" | "remove"; target?: MessageRef }): Promise<HarnessResult>;
  /** Feeds any event (validated against the protocol schema first). */
  event(event: InboundEvent): Promise<HarnessResult>;
  /** Runs one tick of a scheduled task. */
  tick(task: string): Promise<HarnessResult>;
  /** Makes an inbound attachment the plugin can `get`; returns its descriptor. */
  addAttachment(bytes: Uint8Array, meta?: Partial<AttachmentMeta>): AttachmentDescriptor;
  /** Replaces the configuration (validated; throws PLUGIN_INVALID_CONFIG). */
  setConfig(config: Record<string, unknown>): void;
  /** Makes `sessionId` an admin (or not). */
  setAdmin(sessionId: string, admin: boolean): void;
  /** The fake clock. */
  readonly clock: { now(): number; set(ms: number): void; advance(ms: number): void };
}

/** Creates a harness for `plugin`. */
export function createHarness(plugin: AnyPlugin, options: HarnessOptions = {}): Harness {
  if (!isPlugin(plugin)) throw new PluginError("PLUGIN_INVALID_DEFINITION", "createHarness needs a plugin made by definePlugin");
  const bot = options.bot ?? "testbot";
  const admins = new Set(options.admins ?? [TEST_ADMIN]);
  let config = resolveConfig(plugin, options.config ?? {});
  let now = options.now ?? Date.UTC(2026, 0, 1);
  const outbox: OutboundAction[] = [];
  const seen = new Set<string>();
  const records: LogRecord[] = [];
  const backend = new MemoryStoreBackend();
  const store = createStore(backend);
  const inbound = new Map<string, Uint8Array>();
  const uploads = new Map<string, { bytes: Uint8Array; meta: AttachmentMeta }>();
  let seq = 0;
  let ts = 0;
  const plugins: PluginSummary[] = [summarize(plugin), ...(options.otherPlugins ?? []).map(summarize)];

  const deps: RuntimeDeps = {
    bot,
    instance: "harness",
    emit(action) {
      if (!seen.has(action.id)) {
        seen.add(action.id);
        outbox.push(action);
      }
      return Promise.resolve();
    },
    attachments: {
      get(id) {
        const bytes = inbound.get(id) ?? uploads.get(id)?.bytes;
        if (!bytes) return Promise.reject(new PluginError("PLUGIN_ATTACHMENT_FAILED", `no attachment ${id}`));
        return Promise.resolve(bytes.slice());
      },
      put(bytes, meta) {
        const sha256 = createHash("sha256").update(bytes).digest("hex");
        const id = `up-${sha256.slice(0, 32)}`;
        uploads.set(id, { bytes: bytes.slice(), meta });
        return Promise.resolve({ id, contentType: meta.contentType, size: bytes.byteLength, sha256, ...(meta.fileName !== undefined ? { fileName: meta.fileName } : {}) });
      },
    },
    store,
    log: memoryLogger(records, { plugin: plugin.name }),
    isAdmin: (id) => admins.has(id),
    rtt: () => Promise.resolve(options.rttMs ?? 1),
    plugins: () => plugins,
    now: () => now,
  };
  const invokeOpts = () => ({ config, timeoutMs: options.timeoutMs ?? 5_000, commandPrefix: options.commandPrefix ?? "/" });

  const collect = (from: number, result: Pick<InvokeResult, "handled">): HarnessResult => {
    const actions = outbox.slice(from);
    const replies = actions.filter((a): a is SendAction => a.action === "send");
    return { actions, replies, texts: replies.map((r) => r.text), handled: result.handled };
  };
  const feed = async (event: InboundEvent): Promise<HarnessResult> => {
    const parsed = parseInboundEvent(event);
    const from = outbox.length;
    const result = await invokePlugin(plugin, parsed, deps, invokeOpts());
    return collect(from, result);
  };
  const common = (sender: string, id?: string) => {
    ts = Math.max(ts + 1, now);
    return { v: 1 as const, id: id ?? `test-${++seq}`, bot, conversation: sender, sender, timestamp: ts, receivedAt: now };
  };

  return {
    plugin,
    store,
    outbox,
    logs: records,
    uploads,
    message(text, o = {}) {
      const event: MessageEvent = {
        ...common(o.from ?? TEST_USER, o.id),
        kind: "message",
        text,
        attachments: [...(o.attachments ?? [])],
        ...(o.quote ? { quote: o.quote } : {}),
      };
      return feed(event);
    },
    reaction(emoji, o = {}) {
      const sender = o.from ?? TEST_USER;
      const event: ReactionEvent = {
        ...common(sender),
        kind: "reaction",
        op: o.op ?? "add",
        emoji,
        target: o.target ?? { timestamp: now - 1_000, author: sender },
      };
      return feed(event);
    },
    event: feed,
    async tick(task) {
      const from = outbox.length;
      await runTask(plugin, task, String(now), deps, invokeOpts());
      return collect(from, { handled: true });
    },
    addAttachment(bytes, meta = {}) {
      const id = `in-${++seq}`;
      inbound.set(id, bytes.slice());
      return {
        id,
        contentType: meta.contentType ?? "application/octet-stream",
        size: bytes.byteLength,
        ...(meta.fileName !== undefined ? { fileName: meta.fileName } : {}),
      };
    },
    setConfig(raw) {
      config = resolveConfig(plugin, raw);
    },
    setAdmin(id, admin) {
      if (admin) admins.add(id);
      else admins.delete(id);
    },
    clock: {
      now: () => now,
      set: (ms) => {
        now = ms;
      },
      advance: (ms) => {
        now += ms;
      },
    },
  };
}
