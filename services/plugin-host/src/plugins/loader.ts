/**
 * Loads the plugins named in configuration: package names (workspace or npm, resolved from this
 * package, then from the working directory), file paths, and every module of a plugin directory.
 * Each module must export a plugin (default export, or a named `plugin`) whose manifest is valid;
 * anything else is refused with a message naming the module and the problems.
 */
import { readdirSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { isAbsolute, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { checkPluginSpec, compileConfigSchema, definePlugin, isPlugin, manifestOf, type AnyPlugin } from "@session-bot/plugin-sdk";
import { isProtocolError, parsePluginManifest, type PluginManifest } from "@session-bot/protocol";
import { HostError } from "../errors.js";

/** A plugin that passed every check. */
export interface LoadedPlugin {
  readonly plugin: AnyPlugin;
  readonly manifest: PluginManifest;
  /** Where it came from (specifier or file). */
  readonly source: string;
}

/** Names plugin-host keeps for itself (the router answers as `router`). */
export const RESERVED_PLUGIN_NAMES: ReadonlySet<string> = new Set(["router", "host"]);

function isPathSpecifier(spec: string): boolean {
  return spec.startsWith(".") || isAbsolute(spec) || spec.startsWith("file:");
}

async function importSpecifier(spec: string, cwd: string): Promise<{ mod: unknown; source: string }> {
  if (isPathSpecifier(spec)) {
    const url = spec.startsWith("file:") ? spec : pathToFileURL(resolve(cwd, spec)).href;
    return { mod: await import(url), source: url };
  }
  try {
    return { mod: await import(spec), source: spec };
  } catch (first) {
    // Not a dependency of plugin-host: resolve it from the working directory (an operator's node_modules).
    let resolved: string;
    try {
      resolved = createRequire(join(cwd, "noop.js")).resolve(spec);
    } catch {
      throw first;
    }
    return { mod: await import(pathToFileURL(resolved).href), source: resolved };
  }
}

/** Checks what a module exported and returns the plugin with its manifest. */
export function pluginFromModule(mod: unknown, source: string): LoadedPlugin {
  const m = mod as { default?: unknown; plugin?: unknown } | null;
  const candidate = m?.default ?? m?.plugin;
  if (candidate === undefined) {
    throw new HostError("HOST_PLUGIN_LOAD_FAILED", `plugin ${source}: the module has no default export (export default definePlugin({...}))`);
  }
  let plugin: AnyPlugin;
  if (isPlugin(candidate)) {
    const problems = checkPluginSpec(candidate);
    if (problems.length > 0) throw new HostError("HOST_PLUGIN_LOAD_FAILED", `plugin ${source}: ${problems.join("; ")}`);
    plugin = candidate;
  } else {
    try {
      plugin = definePlugin(candidate as never);
    } catch (cause) {
      throw new HostError("HOST_PLUGIN_LOAD_FAILED", `plugin ${source}: ${(cause as Error).message}`, { cause });
    }
  }
  if (RESERVED_PLUGIN_NAMES.has(plugin.name)) {
    throw new HostError("HOST_PLUGIN_LOAD_FAILED", `plugin ${source}: the name ${plugin.name} is reserved by plugin-host`);
  }
  try {
    compileConfigSchema(plugin);
  } catch (cause) {
    throw new HostError("HOST_PLUGIN_LOAD_FAILED", `plugin ${source}: ${(cause as Error).message}`, { cause });
  }
  let manifest: PluginManifest;
  try {
    manifest = parsePluginManifest(manifestOf(plugin));
  } catch (cause) {
    const detail = isProtocolError(cause) ? cause.message : String(cause);
    throw new HostError("HOST_PLUGIN_LOAD_FAILED", `plugin ${source}: invalid manifest: ${detail}`, { cause });
  }
  return { plugin, manifest, source };
}

/** Lists the modules of a plugin directory: `*.js` / `*.mjs` files and sub-directories with a package.json. */
export function pluginDirEntries(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch (cause) {
    throw new HostError("HOST_PLUGIN_LOAD_FAILED", `plugin directory ${dir} cannot be read`, { cause });
  }
  const out: string[] = [];
  for (const name of names) {
    const full = join(dir, name);
    const st = statSync(full);
    if (st.isFile() && /\.m?js$/.test(name)) out.push(full);
    else if (st.isDirectory()) {
      try {
        statSync(join(full, "package.json"));
        out.push(full);
      } catch {
        // not a package: skipped
      }
    }
  }
  return out;
}

async function importDirPackage(dir: string): Promise<{ mod: unknown; source: string }> {
  const resolved = createRequire(join(dir, "noop.js")).resolve(dir);
  return { mod: await import(pathToFileURL(resolved).href), source: dir };
}

/**
 * Loads every configured plugin. Fails (HOST_PLUGIN_LOAD_FAILED / HOST_PLUGIN_CONFLICT) on the
 * first plugin that cannot be loaded, or when two plugins share a name or a command: an operator
 * who names a plugin expects it to run, so plugin-host refuses to start without it.
 */
export async function loadPlugins(specifiers: readonly string[], pluginDir: string | undefined, cwd = process.cwd()): Promise<LoadedPlugin[]> {
  const loaded: LoadedPlugin[] = [];
  const sources: Array<() => Promise<{ mod: unknown; source: string }>> = specifiers.map((spec) => () => importSpecifier(spec, cwd));
  if (pluginDir !== undefined) {
    for (const entry of pluginDirEntries(resolve(cwd, pluginDir))) {
      sources.push(() => (entry.endsWith("js") ? importSpecifier(entry, cwd) : importDirPackage(entry)));
    }
  }
  for (const [i, load] of sources.entries()) {
    let imported: { mod: unknown; source: string };
    try {
      imported = await load();
    } catch (cause) {
      const what = specifiers[i] ?? `module #${i - specifiers.length} of ${pluginDir ?? ""}`;
      throw new HostError("HOST_PLUGIN_LOAD_FAILED", `plugin ${what} cannot be imported: ${(cause as Error).message}`, { cause });
    }
    loaded.push(pluginFromModule(imported.mod, imported.source));
  }
  checkConflicts(loaded);
  return loaded;
}

/** Throws HOST_PLUGIN_CONFLICT when two plugins share a name or a command. */
export function checkConflicts(loaded: readonly LoadedPlugin[]): void {
  const names = new Map<string, string>();
  const commands = new Map<string, string>();
  for (const { plugin, source } of loaded) {
    const prior = names.get(plugin.name);
    if (prior !== undefined) throw new HostError("HOST_PLUGIN_CONFLICT", `two plugins are named ${plugin.name}: ${prior} and ${source}`);
    names.set(plugin.name, source);
    for (const command of Object.keys(plugin.commands ?? {})) {
      const owner = commands.get(command);
      if (owner !== undefined) throw new HostError("HOST_PLUGIN_CONFLICT", `command /${command} is declared by both ${owner} and ${plugin.name}`);
      commands.set(command, plugin.name);
    }
  }
}
