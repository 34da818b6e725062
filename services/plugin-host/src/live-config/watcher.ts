/**
 * Live configuration: watches the `sb_plugins` KV bucket (keys `<bot>.<plugin>`) and applies each
 * PluginConfigRecord to the registry. Enabling, disabling or reconfiguring a plugin therefore takes
 * effect on every worker, for the next event, without a restart. A record that is not valid JSON,
 * not a PluginConfigRecord, or whose config fails the plugin's schema is refused: the plugin keeps
 * its previous state, and the refusal is logged and counted.
 */
import type { KV, KvEntry } from "@nats-io/kv";
import { decodePluginConfigRecord, parsePluginConfigKey, pluginConfigKey, pluginConfigKeyFilter } from "@session-bot/protocol";
import type { Logger } from "pino";
import type { PluginRegistry } from "../plugins/registry.js";

export interface ConfigWatcher {
  /** Stops watching. */
  stop(): void;
}

/** Applies one KV entry; returns what happened (for logs/metrics/tests). */
export function applyEntry(registry: PluginRegistry, bot: string, e: Pick<KvEntry, "key" | "value" | "operation" | "revision">): "applied" | "refused" | "ignored" {
  let plugin: string;
  try {
    const parsed = parsePluginConfigKey(e.key);
    if (parsed.bot !== bot) return "ignored";
    plugin = parsed.plugin;
  } catch {
    return "ignored";
  }
  if (!registry.has(plugin)) return "ignored";
  if (e.operation !== "PUT") {
    return registry.apply(plugin, null, e.revision).ok ? "applied" : "refused";
  }
  let record;
  try {
    record = decodePluginConfigRecord(e.value);
  } catch (err) {
    registry.refuse(plugin, `invalid config record: ${(err as Error).message}`, e.revision);
    return "refused";
  }
  const r = registry.apply(plugin, record, e.revision);
  return r.ok ? (r.changed ? "applied" : "ignored") : "refused";
}

/**
 * Reads the current record of every loaded plugin, then watches for changes. Resolves once the
 * current records are applied (readiness waits for it).
 */
export async function watchPluginConfig(
  kv: KV,
  bot: string,
  registry: PluginRegistry,
  log: Logger,
  onChange?: (plugin: string, result: "applied" | "refused") => void,
): Promise<ConfigWatcher> {
  const report = (e: Pick<KvEntry, "key" | "value" | "operation" | "revision">, result: "applied" | "refused" | "ignored") => {
    if (result === "ignored") return;
    const plugin = e.key.split(".")[1] ?? e.key;
    const state = registry.get(plugin);
    if (result === "refused") log.warn({ plugin, revision: e.revision, reason: state?.refused }, "plugin config refused; previous config kept");
    else log.info({ plugin, revision: e.revision, enabled: state?.enabled }, "plugin config applied");
    onChange?.(plugin, result);
  };
  for (const { plugin } of registry.all()) {
    const e = await kv.get(pluginConfigKey(bot, plugin.name));
    if (e) report(e, applyEntry(registry, bot, e));
  }
  // Watching from the last values again is harmless: records at or below an applied revision are skipped.
  const iter = await kv.watch({ key: pluginConfigKeyFilter(bot) });
  void (async () => {
    try {
      for await (const e of iter) report(e, applyEntry(registry, bot, e));
    } catch (err) {
      log.error({ err }, "plugin config watch ended");
    }
  })();
  return { stop: () => iter.stop() };
}
