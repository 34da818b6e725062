/**
 * Runs one plugin on one event (or one task tick): builds the handler context, routes commands,
 * gates admin commands, enforces the handler timeout and assigns idempotent action ids.
 *
 * Shared by plugin-host and the test harness so both behave the same. Transport-free: the host
 * passes functions that publish to NATS, the harness passes in-memory ones.
 */
import type { AttachmentDescriptor, InboundEvent, MessageEvent, MessageRef, OutboundAction, ReactionEvent } from "@session-bot/protocol";
import { deriveActionId, isProtocolError, parseOutboundAction } from "@session-bot/protocol";
import { parseCommand, type ParsedCommand } from "./command.js";
import type {
  AnyPlugin,
  AttachmentMeta,
  Attachments,
  BaseContext,
  CommandContext,
  EventContext,
  HostInfo,
  MessageContext,
  PluginSummary,
  ReplyContent,
} from "./define.js";
import { PluginError, isPluginError } from "./errors.js";
import type { PluginLogger } from "./logger.js";
import type { PluginStore } from "./store.js";

/** Longest text of one outbound message (protocol's MAX_TEXT_LENGTH); longer replies are split. */
export const MAX_REPLY_TEXT = 2_000;
/** Most attachments in one message (protocol's MAX_ATTACHMENTS_PER_MESSAGE). */
export const MAX_REPLY_ATTACHMENTS = 10;
/** Default answer to a non-admin running an admin command. */
export const DEFAULT_ADMIN_REFUSAL = "Sorry, this command is for admins only.";

/** Moves attachment bytes through the broker (the host implements it with chunker streams). */
export interface AttachmentTransport {
  get(id: string, signal: AbortSignal): Promise<Uint8Array>;
  put(bytes: Uint8Array, meta: AttachmentMeta, signal: AbortSignal): Promise<AttachmentDescriptor>;
}

/** Everything a plugin invocation needs from its host, for one plugin. */
export interface RuntimeDeps {
  /** Bot name (SB_BOT). */
  readonly bot: string;
  /** Worker instance id. */
  readonly instance: string;
  /** Publishes an outbound action; `action.id` is its idempotency key (Nats-Msg-Id). */
  emit(action: OutboundAction): Promise<void>;
  readonly attachments: AttachmentTransport;
  /** This plugin's store. */
  readonly store: PluginStore;
  /** This plugin's logger. */
  readonly log: PluginLogger;
  /** Admin Session IDs. */
  isAdmin(sessionId: string): boolean;
  rtt(): Promise<number>;
  plugins(): readonly PluginSummary[];
  now(): number;
}

/** Per-invocation options. */
export interface InvokeOptions {
  /** The plugin's resolved configuration. */
  readonly config: Record<string, unknown>;
  /** Handler timeout (ms): the context's signal aborts and the call fails with PLUGIN_TIMEOUT. */
  readonly timeoutMs: number;
  /** Command prefix (default `/`). */
  readonly commandPrefix?: string;
  /** Aborts the handler from outside (host shutdown). */
  readonly signal?: AbortSignal;
  /** Answer to non-admins running an admin command. */
  readonly adminRefusal?: string;
}

/** What an invocation did. */
export interface InvokeResult {
  /** Whether any handler of the plugin ran (or an admin refusal was sent). */
  readonly handled: boolean;
  /** Whether the plugin owns the event's command. */
  readonly ownsCommand: boolean;
  /** Outbound actions emitted. */
  readonly actions: number;
}

/** Splits text into pieces of at most `max` characters, preferring line breaks, then spaces. */
export function splitText(text: string, max = MAX_REPLY_TEXT): string[] {
  if (text.length <= max) return [text];
  const parts: string[] = [];
  let rest = text;
  while (rest.length > max) {
    let cut = rest.lastIndexOf("\n", max);
    if (cut < max / 2) cut = rest.lastIndexOf(" ", max);
    if (cut < max / 2) cut = max;
    parts.push(rest.slice(0, cut));
    rest = rest.slice(cut).replace(/^[\n ]/, "");
  }
  if (rest.length > 0) parts.push(rest);
  return parts;
}

const KEY_RE = /^[A-Za-z0-9+/=._-]{1,64}$/;

class Invocation {
  private n = 0;
  private closed = false;
  actions = 0;
  readonly controller = new AbortController();

  constructor(
    readonly plugin: AnyPlugin,
    readonly deps: RuntimeDeps,
    readonly opts: InvokeOptions,
    /** What action ids derive from: the event id (or `task:<task>:<tick>`). */
    readonly idBase: string,
    readonly causationId: string | undefined,
  ) {}

  close(): void {
    this.closed = true;
  }

  async emit(draft: Record<string, unknown>, id?: string): Promise<void> {
    if (this.closed || this.controller.signal.aborted) {
      throw new PluginError("PLUGIN_TIMEOUT", `plugin ${this.plugin.name}: action after the handler finished or was aborted`);
    }
    const action = {
      v: 1,
      id: id ?? deriveActionId(this.idBase, this.plugin.name, this.n++),
      bot: this.deps.bot,
      ...(this.causationId !== undefined ? { causationId: this.causationId } : {}),
      plugin: this.plugin.name,
      ...draft,
    };
    let parsed: OutboundAction;
    try {
      parsed = parseOutboundAction(action);
    } catch (cause) {
      if (isProtocolError(cause)) throw new PluginError("PLUGIN_INVALID_ACTION", `plugin ${this.plugin.name}: ${cause.message}`, { cause });
      throw cause;
    }
    await this.deps.emit(parsed);
    this.actions++;
  }

  async sendContent(conversation: string, content: string | ReplyContent, quoteOf: MessageRef | undefined, key?: string): Promise<void> {
    const c: ReplyContent = typeof content === "string" ? { text: content } : content;
    const text = c.text ?? "";
    const attachments = (c.attachments ?? []).map((a) => (typeof a === "string" ? a : a.id));
    if (attachments.length > MAX_REPLY_ATTACHMENTS) {
      throw new PluginError("PLUGIN_INVALID_ACTION", `plugin ${this.plugin.name}: at most ${MAX_REPLY_ATTACHMENTS} attachments per message`);
    }
    if (text.length === 0 && attachments.length === 0) {
      throw new PluginError("PLUGIN_INVALID_ACTION", `plugin ${this.plugin.name}: a reply needs text or attachments`);
    }
    let quote: MessageRef | undefined;
    if (c.quote === true) {
      if (!quoteOf) throw new PluginError("PLUGIN_UNSUPPORTED", `plugin ${this.plugin.name}: nothing to quote here`);
      quote = quoteOf;
    } else if (typeof c.quote === "object") quote = c.quote;
    if (key !== undefined && !KEY_RE.test(key)) {
      throw new PluginError("PLUGIN_INVALID_ACTION", `plugin ${this.plugin.name}: send key must match [A-Za-z0-9+/=._-]{1,64}`);
    }
    const pieces = text.length === 0 ? [""] : splitText(text);
    for (let i = 0; i < pieces.length; i++) {
      const last = i === pieces.length - 1;
      const draft: Record<string, unknown> = { action: "send", conversation, text: pieces[i] };
      if (last && attachments.length > 0) draft.attachments = attachments;
      if (i === 0 && quote) draft.quote = quote;
      await this.emit(draft, key !== undefined ? deriveActionId(`key:${key}`, this.plugin.name, i) : undefined);
    }
  }

  base(): BaseContext<Record<string, unknown>> {
    const deps = this.deps;
    const signal = this.controller.signal;
    const attachments: Attachments = {
      get: async (id: string | AttachmentDescriptor) => {
        const attachmentId = typeof id === "string" ? id : id.id;
        try {
          return await deps.attachments.get(attachmentId, signal);
        } catch (cause) {
          if (isPluginError(cause)) throw cause;
          throw new PluginError("PLUGIN_ATTACHMENT_FAILED", `attachment ${attachmentId}: ${(cause as Error).message}`, { cause });
        }
      },
      put: async (bytes: Uint8Array, meta: AttachmentMeta) => {
        try {
          return await deps.attachments.put(bytes, meta, signal);
        } catch (cause) {
          if (isPluginError(cause)) throw cause;
          throw new PluginError("PLUGIN_ATTACHMENT_FAILED", `attachment upload: ${(cause as Error).message}`, { cause });
        }
      },
    };
    const host: HostInfo = { bot: deps.bot, instance: deps.instance, plugins: () => deps.plugins(), rtt: () => deps.rtt() };
    return {
      config: this.opts.config,
      store: deps.store,
      log: deps.log,
      signal,
      attachments,
      host,
      now: () => deps.now(),
      send: (conversation, content, key) => this.sendContent(conversation, content, undefined, key),
    };
  }

  eventContext<E extends InboundEvent>(event: E, log: PluginLogger): EventContext<Record<string, unknown>, E> {
    const self: MessageRef = { timestamp: event.timestamp, author: event.sender };
    return {
      ...this.base(),
      log,
      event,
      conversation: event.conversation,
      sender: event.sender,
      isAdmin: this.deps.isAdmin(event.sender),
      reply: (content) => this.sendContent(event.conversation, content, self),
      react: (emoji, options) =>
        this.emit({ action: "react", conversation: event.conversation, op: options?.remove ? "remove" : "add", emoji, target: options?.target ?? self }),
      markRead: () => this.emit({ action: "read", conversation: event.conversation, timestamps: [event.timestamp] }),
      typing: (state = "started") => this.emit({ action: "typing", conversation: event.conversation, state }),
    };
  }

  /** Runs `fn` under the timeout and the outer signal; wraps what it throws. */
  async run(what: string, fn: () => unknown): Promise<void> {
    const { timeoutMs } = this.opts;
    const outer = this.opts.signal;
    let timer: NodeJS.Timeout | undefined;
    let onOuter: (() => void) | undefined;
    const stop = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const err = new PluginError("PLUGIN_TIMEOUT", `plugin ${this.plugin.name}: ${what} ran past ${timeoutMs} ms`);
        this.controller.abort(err);
        reject(err);
      }, timeoutMs);
      if (outer) {
        onOuter = () => {
          const err = new PluginError("PLUGIN_TIMEOUT", `plugin ${this.plugin.name}: ${what} aborted (host stopping)`, { cause: outer.reason });
          this.controller.abort(err);
          reject(err);
        };
        if (outer.aborted) onOuter();
        else outer.addEventListener("abort", onOuter, { once: true });
      }
    });
    try {
      await Promise.race([Promise.resolve().then(fn), stop]);
    } catch (err) {
      if (isPluginError(err, "PLUGIN_TIMEOUT") || this.controller.signal.aborted) {
        throw isPluginError(err) ? err : (this.controller.signal.reason as Error);
      }
      if (isPluginError(err)) throw err;
      throw new PluginError("PLUGIN_HANDLER_FAILED", `plugin ${this.plugin.name}: ${what} threw: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    } finally {
      clearTimeout(timer);
      if (onOuter && outer) outer.removeEventListener("abort", onOuter);
      this.close();
    }
  }
}

/** Whether `plugin` declares the command `name`. */
export function ownsCommand(plugin: AnyPlugin, name: string): boolean {
  return Object.hasOwn(plugin.commands ?? {}, name);
}

/** The command of an event, when it is a message whose text is one. */
export function commandOf(event: InboundEvent, prefix = "/"): ParsedCommand | undefined {
  return event.kind === "message" ? parseCommand(event.text, prefix) : undefined;
}

/**
 * Runs `plugin` on `event`: its command handler (if the message is one of its commands; admin
 * commands refuse non-admins), then `onMessage` / `onReaction` / `onEvent`. Action ids are
 * protocol's `deriveActionId(<event id>, <plugin>, <n>)`, so a redelivered event yields the same ids.
 *
 * Throws `PLUGIN_TIMEOUT` (the handler's signal was aborted) or `PLUGIN_HANDLER_FAILED` (it threw;
 * `cause` is what it threw), or the PluginError the handler raised.
 */
export async function invokePlugin(plugin: AnyPlugin, event: InboundEvent, deps: RuntimeDeps, opts: InvokeOptions): Promise<InvokeResult> {
  const inv = new Invocation(plugin, deps, opts, event.id, event.id);
  const log = deps.log.child({ eventId: event.id, kind: event.kind });
  let handled = false;
  let owns = false;
  await inv.run(`handler for ${event.kind} ${event.id}`, async () => {
    if (event.kind === "message") {
      const msg = event;
      const command = parseCommand(msg.text, opts.commandPrefix ?? "/");
      const base = inv.eventContext<MessageEvent>(msg, log);
      const mctx: MessageContext<Record<string, unknown>> = { ...base, text: msg.text, command };
      if (command && ownsCommand(plugin, command.name)) {
        owns = true;
        const def = plugin.commands![command.name]!;
        handled = true;
        if (def.admin === true && !mctx.isAdmin) {
          await mctx.reply(opts.adminRefusal ?? DEFAULT_ADMIN_REFUSAL);
        } else {
          const cctx: CommandContext<Record<string, unknown>> = { ...mctx, command, args: command.args };
          await def.handler(cctx);
        }
      }
      if (plugin.onMessage) {
        handled = true;
        await plugin.onMessage(mctx);
      }
    } else if (event.kind === "reaction") {
      if (plugin.onReaction) {
        handled = true;
        await plugin.onReaction(inv.eventContext<ReactionEvent>(event, log));
      }
    } else if (plugin.onEvent) {
      handled = true;
      await plugin.onEvent(inv.eventContext(event, log));
    }
  });
  return { handled, ownsCommand: owns, actions: inv.actions };
}

/**
 * Runs one tick of a plugin's scheduled task. `tick` names the tick (e.g. its scheduled time);
 * `ctx.send` always takes a key, whose ids are `deriveActionId("key:<key>", <plugin>, <n>)`.
 */
export async function runTask(plugin: AnyPlugin, taskName: string, tick: string, deps: RuntimeDeps, opts: InvokeOptions): Promise<{ actions: number }> {
  const task = plugin.tasks?.[taskName];
  if (!task) throw new PluginError("PLUGIN_UNSUPPORTED", `plugin ${plugin.name} has no task ${taskName}`);
  const inv = new Invocation(plugin, deps, opts, `task:${taskName}:${tick}`, undefined);
  await inv.run(`task ${taskName}`, () => task.run({ ...inv.base(), log: deps.log.child({ task: taskName }) }));
  return { actions: inv.actions };
}
