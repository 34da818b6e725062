/**
 * The live state of the loaded plugins on this worker: enabled or not, and the validated
 * configuration. Fed by the `sb_plugins` KV watcher; read by the processor for every event.
 */
import { isPluginError, resolveConfig, summarize, type AnyPlugin, type PluginSummary } from "@session-bot/plugin-sdk";
import type { PluginConfigRecord } from "@session-bot/protocol";
import type { LoadedPlugin } from "./loader.js";

/** One plugin's current state. */
export interface PluginState {
  readonly plugin: AnyPlugin;
  readonly enabled: boolean;
  /** The validated config; undefined when the plugin has no valid config yet (then it does not run). */
  readonly config: Record<string, unknown> | undefined;
  /** Why the last record was refused, if it was. */
  readonly refused: string | undefined;
  /** KV revision of the record applied last (0: defaults). */
  readonly revision: number;
}

/** The outcome of applying a record. */
export type ApplyResult = { readonly ok: true; readonly changed: boolean } | { readonly ok: false; readonly reason: string };

/** Holds every loaded plugin's live state. */
export class PluginRegistry {
  private readonly states = new Map<string, PluginState>();
  private readonly order: string[] = [];
  private summaryCache: readonly PluginSummary[] | undefined;

  constructor(
    loaded: readonly LoadedPlugin[],
    private readonly enabledByDefault: boolean,
  ) {
    for (const { plugin } of loaded) {
      this.order.push(plugin.name);
      this.states.set(plugin.name, this.defaults(plugin));
    }
  }

  private defaults(plugin: AnyPlugin): PluginState {
    let config: Record<string, unknown> | undefined;
    let refused: string | undefined;
    try {
      config = resolveConfig(plugin, {});
    } catch (err) {
      refused = isPluginError(err) ? err.message : String(err);
    }
    return { plugin, enabled: this.enabledByDefault, config, refused, revision: 0 };
  }

  /** Whether a plugin of that name is loaded here. */
  has(name: string): boolean {
    return this.states.has(name);
  }

  /** The state of one plugin. */
  get(name: string): PluginState | undefined {
    return this.states.get(name);
  }

  /**
   * Applies a config record (null: the record was deleted → back to defaults). A record whose
   * config does not validate is refused: the plugin keeps its previous state (except that
   * `enabled: false` still turns it off). Records older
   * than the one applied (by KV revision) are ignored.
   */
  apply(name: string, record: PluginConfigRecord | null, revision: number): ApplyResult {
    const current = this.states.get(name);
    if (!current) return { ok: true, changed: false };
    if (revision !== 0 && revision <= current.revision) return { ok: true, changed: false };
    if (record === null) {
      this.states.set(name, { ...this.defaults(current.plugin), revision });
      this.summaryCache = undefined;
      return { ok: true, changed: true };
    }
    let config: Record<string, unknown>;
    try {
      config = resolveConfig(current.plugin, record.config);
    } catch (err) {
      const reason = isPluginError(err) ? err.message : String(err);
      // A disable is honoured even with a bad config: the operator wants the plugin off.
      this.states.set(name, { ...current, enabled: record.enabled ? current.enabled : false, refused: reason, revision });
      this.summaryCache = undefined;
      return { ok: false, reason };
    }
    this.states.set(name, { plugin: current.plugin, enabled: record.enabled, config, refused: undefined, revision });
    this.summaryCache = undefined;
    return { ok: true, changed: true };
  }

  /** Records a refusal that happened before a record could be parsed (bad JSON, bad schema). */
  refuse(name: string, reason: string, revision: number): void {
    const current = this.states.get(name);
    if (current && revision > current.revision) this.states.set(name, { ...current, refused: reason, revision });
  }

  /** Every plugin's state, in load order. */
  all(): PluginState[] {
    return this.order.map((n) => this.states.get(n)!);
  }

  /** The plugins that run now: enabled and with a valid config, in load order. */
  runnable(): Array<PluginState & { config: Record<string, unknown> }> {
    return this.all().filter((s): s is PluginState & { config: Record<string, unknown> } => s.enabled && s.config !== undefined);
  }

  /** Summaries of the runnable plugins (for `/help`). */
  summaries(): readonly PluginSummary[] {
    this.summaryCache ??= this.runnable().map((s) => summarize(s.plugin));
    return this.summaryCache;
  }
}
