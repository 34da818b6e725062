/**
 * Commands of plugins that run in other workers of the bot (a Python worker group, say): their
 * manifests are in the `sb_plugin_manifests` bucket. The router must not answer "unknown command"
 * to a command one of them owns. Pure data: the KV watch lives in app.ts.
 */
import { decodePluginManifest, type PluginManifest } from "@session-bot/protocol";
import type { PluginSummary } from "@session-bot/plugin-sdk";

/** The manifests of plugins not loaded by this worker, kept up to date from KV entries. */
export class ExternalCommands {
  private readonly manifests = new Map<string, PluginManifest>();
  private cache: readonly PluginSummary[] | undefined;

  /** `local`: names of the plugins this worker loaded (their own summaries come from the registry). */
  constructor(private readonly local: ReadonlySet<string>) {}

  /** Applies one KV entry: a manifest put (`value`) or a delete/purge (`undefined`). Returns false for a value that is not a manifest. */
  apply(key: string, value: Uint8Array | undefined): boolean {
    if (this.local.has(key)) return true;
    this.cache = undefined;
    if (value === undefined || value.length === 0) {
      this.manifests.delete(key);
      return true;
    }
    try {
      const manifest = decodePluginManifest(value);
      if (manifest.name !== key) return false;
      this.manifests.set(key, manifest);
      return true;
    } catch {
      return false;
    }
  }

  /** Summaries of the external plugins, in name order, for routing and the built-in /help. */
  summaries(): readonly PluginSummary[] {
    this.cache ??= [...this.manifests.values()]
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((m) => ({
        name: m.name,
        version: m.version,
        description: m.description,
        commands: m.commands.map((c) => ({ name: c.name, description: c.description, ...(c.usage !== undefined ? { usage: c.usage } : {}), admin: c.adminOnly === true })),
      }));
    return this.cache;
  }
}
