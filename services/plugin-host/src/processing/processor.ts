/**
 * Runs every enabled plugin on one event. Plugins run side by side and are isolated: one that
 * throws or times out is reported in `failures` and does not stop the others. A command no
 * enabled plugin owns gets the router's answer (built-in `/help` when no plugin owns `help`).
 */
import { invokePlugin, type RuntimeDeps } from "@session-bot/plugin-sdk/runtime";
import { isPluginError, type AnyPlugin, type PluginError, type PluginSummary } from "@session-bot/plugin-sdk";
import { deriveActionId, type InboundEvent, type OutboundAction } from "@session-bot/protocol";
import type { Logger } from "pino";
import type { PluginRegistry } from "../plugins/registry.js";
import { formatHelp, route, unknownCommandReply } from "../routing/router.js";
import type { PluginStats } from "./stats.js";

/** The pseudo-plugin name of the router's own replies. */
export const ROUTER_NAME = "router";

/** One plugin's failure on an event. */
export interface PluginFailure {
  readonly plugin: string;
  readonly code: PluginError["code"] | "UNKNOWN";
  readonly message: string;
}

/** What processing an event did. */
export interface ProcessOutcome {
  readonly failures: readonly PluginFailure[];
  /** Plugins that handled the event. */
  readonly handledBy: readonly string[];
  /** Plugins (and `router`) that ran without failing this time (skipped ones excluded). */
  readonly succeeded: readonly string[];
}

/** What the processor needs. */
export interface ProcessorDeps {
  readonly registry: PluginRegistry;
  /** The runtime dependencies of one plugin (store, logger, emit, attachments...). */
  runtimeFor(plugin: AnyPlugin): RuntimeDeps;
  /** Publishes the router's own replies. */
  emit(action: OutboundAction): Promise<void>;
  readonly stats: PluginStats;
  readonly log: Logger;
  readonly handlerTimeoutMs: number;
  readonly commandPrefix: string;
  readonly unknownCommandReply: string;
  isAdmin(sessionId: string): boolean;
  /** Plugins of other workers of the bot (e.g. a Python group): their commands are not "unknown". */
  externalPlugins?(): readonly PluginSummary[];
}

/**
 * Runs the enabled plugins on `event`, except those in `skip` (they succeeded on an earlier
 * delivery). Never throws for a plugin's failure; `signal` aborts handlers (shutdown).
 */
export async function processEvent(event: InboundEvent, deps: ProcessorDeps, signal?: AbortSignal, skip: ReadonlySet<string> = new Set()): Promise<ProcessOutcome> {
  const runnable = deps.registry.runnable().filter((r) => !skip.has(r.plugin.name));
  const failures: PluginFailure[] = [];
  const handledBy: string[] = [];
  const succeeded: string[] = [];
  await Promise.all(
    runnable.map(async ({ plugin, config }) => {
      const started = performance.now();
      try {
        const result = await invokePlugin(plugin, event, deps.runtimeFor(plugin), {
          config,
          timeoutMs: deps.handlerTimeoutMs,
          commandPrefix: deps.commandPrefix,
          ...(signal ? { signal } : {}),
        });
        succeeded.push(plugin.name);
        if (result.handled) {
          handledBy.push(plugin.name);
          deps.stats.record(plugin.name, "ok", performance.now() - started);
        }
      } catch (err) {
        const timeout = isPluginError(err, "PLUGIN_TIMEOUT");
        deps.stats.record(plugin.name, timeout ? "timeout" : "error", performance.now() - started);
        const failure: PluginFailure = {
          plugin: plugin.name,
          code: isPluginError(err) ? err.code : "UNKNOWN",
          message: err instanceof Error ? err.message : String(err),
        };
        failures.push(failure);
        deps.log.warn({ err, plugin: plugin.name, eventId: event.id, code: failure.code }, "plugin failed on event");
      }
    }),
  );

  const everyPlugin = [...deps.registry.summaries(), ...(deps.externalPlugins?.() ?? [])];
  const r = route(event, everyPlugin, deps.commandPrefix);
  if (r.command && r.owner === undefined && !skip.has(ROUTER_NAME)) {
    let text: string | undefined;
    if (r.command.name === "help") text = formatHelp(everyPlugin, deps.commandPrefix, deps.isAdmin(event.sender));
    else text = unknownCommandReply(deps.unknownCommandReply, r.command, deps.commandPrefix);
    if (text !== undefined) {
      // Failing to publish is transient: it surfaces as a failure so the event is retried.
      try {
        await deps.emit({
          v: 1,
          id: deriveActionId(event.id, ROUTER_NAME, 0),
          bot: event.bot,
          causationId: event.id,
          plugin: ROUTER_NAME,
          action: "send",
          conversation: event.conversation,
          text: text.slice(0, 2_000),
        });
        succeeded.push(ROUTER_NAME);
      } catch (err) {
        failures.push({ plugin: ROUTER_NAME, code: "UNKNOWN", message: err instanceof Error ? err.message : String(err) });
      }
    }
  }
  return { failures, handledBy, succeeded };
}
