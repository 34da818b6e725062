/** Plugin manifest (what a plugin declares) and plugin config record (KV `sb_plugins`). */
import { Type, type Static } from "@sinclair/typebox";
import {
  COMMAND_NAME_PATTERN,
  MAX_ACTOR_LENGTH,
  MAX_COMMAND_NAME_LENGTH,
  MAX_COMMANDS_PER_PLUGIN,
  MAX_DESCRIPTION_LENGTH,
  MAX_PLUGIN_CONFIG_DEPTH,
  MAX_USAGE_LENGTH,
  MAX_VERSION_LENGTH,
  SEMVER_PATTERN,
} from "../limits.js";
import type { ValidateFunction } from "ajv";
import { ProtocolError } from "../errors.js";
import { ajv, defineCodec, problemsOf, stringifyJson } from "../validation.js";
import { jsonObject, pluginName, timestampMs, versionField } from "./common.js";

/** One command a plugin answers (typed by users as `/<name>`). */
export const PluginCommandSchema = Type.Object(
  {
    name: Type.String({ pattern: COMMAND_NAME_PATTERN, minLength: 1, maxLength: MAX_COMMAND_NAME_LENGTH, description: "Command name without the leading '/'." }),
    description: Type.String({ maxLength: MAX_DESCRIPTION_LENGTH, description: "One line shown by /help." }),
    usage: Type.Optional(Type.String({ maxLength: MAX_USAGE_LENGTH, description: "Usage, e.g. '/echo <text>'." })),
    adminOnly: Type.Optional(Type.Boolean({ description: "Only bot admins may run it (default false)." })),
  },
  { title: "PluginCommand" },
);
/** One command a plugin answers. */
export type PluginCommand = Static<typeof PluginCommandSchema>;

/**
 * The JSON Schema of a plugin's config: an object schema that must itself be a valid JSON Schema
 * (draft-07), checked against the draft-07 meta-schema.
 */
const configSchemaSchema = Type.Unsafe<Record<string, unknown>>({
  type: "object",
  description: "JSON Schema (draft-07) of the plugin's config object; the gateway validates config writes against it.",
  allOf: [{ $ref: "http://json-schema.org/draft-07/schema#" }],
});

/**
 * What a plugin declares about itself. plugin-host writes it to KV `sb_plugin_manifests` (key =
 * plugin name) when it loads the plugin; the gateway reads it to list commands and validate config.
 */
export const PluginManifestSchema = Type.Object(
  {
    v: versionField(),
    name: pluginName("Plugin name (unique in a deployment)."),
    version: Type.String({ pattern: SEMVER_PATTERN, maxLength: MAX_VERSION_LENGTH, description: "Plugin version (semver)." }),
    description: Type.String({ maxLength: MAX_DESCRIPTION_LENGTH, description: "What the plugin does, one or two sentences." }),
    commands: Type.Array(PluginCommandSchema, { maxItems: MAX_COMMANDS_PER_PLUGIN, description: "Commands it answers (may be empty)." }),
    configSchema: Type.Optional(configSchemaSchema),
  },
  { title: "PluginManifest", description: "What a plugin declares about itself (KV sb_plugin_manifests, key = plugin name)." },
);
/** What a plugin declares about itself. */
export type PluginManifest = Static<typeof PluginManifestSchema>;

/** The per-bot enable/config record of one plugin, stored in KV `sb_plugins` under `<bot>.<plugin>`. */
export const PluginConfigRecordSchema = Type.Object(
  {
    v: versionField(),
    enabled: Type.Boolean({ description: "Whether plugin-host runs the plugin for this bot." }),
    config: jsonObject("The plugin's config object (valid against its manifest's configSchema)."),
    updatedAt: timestampMs("When the record was last written (ms)."),
    updatedBy: Type.String({ minLength: 1, maxLength: MAX_ACTOR_LENGTH, description: "Who wrote it: 'gateway:<token name>', 'system', ..." }),
  },
  { title: "PluginConfigRecord", description: "Per-bot enable flag and config of one plugin (KV sb_plugins, key <bot>.<plugin>)." },
);
/** The per-bot enable/config record of one plugin. */
export type PluginConfigRecord = Static<typeof PluginConfigRecordSchema>;

const manifestCodec = defineCodec("PluginManifest", PluginManifestSchema);
const configCodec = defineCodec("PluginConfigRecord", PluginConfigRecordSchema);

/** Returns the value typed as {@link PluginManifest} or throws `ProtocolError`. */
export const parsePluginManifest = manifestCodec.parse;
/** Type guard for {@link PluginManifest}. */
export const isPluginManifest = manifestCodec.is;
/** UTF-8 JSON → {@link PluginManifest}, or throws `ProtocolError`. */
export const decodePluginManifest = manifestCodec.decode;
/** {@link PluginManifest} → UTF-8 JSON (validated first). */
export const encodePluginManifest = manifestCodec.encode;

/** Returns the value typed as {@link PluginConfigRecord} or throws `ProtocolError`. */
export const parsePluginConfigRecord = configCodec.parse;
/** Type guard for {@link PluginConfigRecord}. */
export const isPluginConfigRecord = configCodec.is;
/** UTF-8 JSON → {@link PluginConfigRecord}, or throws `ProtocolError`. */
export const decodePluginConfigRecord = configCodec.decode;
/** {@link PluginConfigRecord} → UTF-8 JSON (validated first). */
export const encodePluginConfigRecord = configCodec.encode;

/** Codecs of this module (registry use). */
export const pluginCodecs = { manifestCodec, configCodec };

/** Most distinct config schemas kept compiled (a reloaded manifest with the same schema reuses its entry). */
const MAX_COMPILED_CONFIG_SCHEMAS = 256;
const compiledBySource = new Map<string, { schema: object; validate: ValidateFunction }>();

function configValidator(manifest: PluginManifest): ValidateFunction | undefined {
  const schema = manifest.configSchema;
  if (schema === undefined) return undefined;
  // PROTOCOL_TOO_LARGE for a schema nested deeper than MAX_JSON_DEPTH (one that could not be sent either).
  const source = stringifyJson(schema, `plugin ${manifest.name}: configSchema`);
  const hit = compiledBySource.get(source);
  if (hit !== undefined) {
    // Refresh recency: Map iteration order is insertion order.
    compiledBySource.delete(source);
    compiledBySource.set(source, hit);
    return hit.validate;
  }
  // Compile a copy without a top-level $id, so manifests reloaded as new objects (or two plugins
  // reusing an $id) do not collide in the shared AJV instance.
  const { $id: _ignored, ...copy } = JSON.parse(source) as Record<string, unknown>;
  let validate: ValidateFunction;
  try {
    validate = ajv.compile(copy);
  } catch (cause) {
    throw new ProtocolError("PROTOCOL_INVALID", `plugin ${manifest.name}: configSchema does not compile`, {
      cause,
      problems: [{ instancePath: "/configSchema", message: cause instanceof Error ? cause.message : "does not compile", keyword: "configSchema" }],
    });
  }
  compiledBySource.set(source, { schema: copy, validate });
  if (compiledBySource.size > MAX_COMPILED_CONFIG_SCHEMAS) {
    const [oldestKey, oldest] = compiledBySource.entries().next().value as [string, { schema: object }];
    compiledBySource.delete(oldestKey);
    ajv.removeSchema(oldest.schema);
  }
  return validate;
}

/** True when objects/arrays in `value` nest more than `max` levels (walks at most `max + 1` levels, so cycles end too). */
function valueNestsDeeperThan(value: unknown, max: number): boolean {
  if (typeof value !== "object" || value === null) return false;
  if (max === 0) return true;
  for (const child of Array.isArray(value) ? value : Object.values(value)) if (valueNestsDeeperThan(child, max - 1)) return true;
  return false;
}

/**
 * Checks a plugin's `config` object against its manifest's `configSchema` (compiled once per
 * distinct schema with the package's AJV instance and cached; at most 256 kept). Throws `PROTOCOL_INVALID` with
 * problems under `/config/...`, or under `/configSchema` when the schema itself does not compile
 * (e.g. an invalid regular expression), and `PROTOCOL_TOO_LARGE` when a recursive schema meets a
 * config nested too deeply to validate, a config nesting deeper than `MAX_PLUGIN_CONFIG_DEPTH` (32)
 * levels, or a schema nesting deeper than `MAX_JSON_DEPTH`. A manifest without `configSchema`
 * accepts any object (up to that depth).
 */
export function assertPluginConfig(manifest: PluginManifest, config: unknown): Record<string, unknown> {
  if (typeof config !== "object" || config === null || Array.isArray(config)) {
    throw new ProtocolError("PROTOCOL_INVALID", `plugin ${manifest.name}: config must be an object`, {
      problems: [{ instancePath: "/config", message: "must be object", keyword: "type" }],
    });
  }
  if (valueNestsDeeperThan(config, MAX_PLUGIN_CONFIG_DEPTH)) {
    throw new ProtocolError("PROTOCOL_TOO_LARGE", `plugin ${manifest.name}: config nests deeper than ${MAX_PLUGIN_CONFIG_DEPTH} levels`, {
      problems: [{ instancePath: "/config", message: `nests deeper than ${MAX_PLUGIN_CONFIG_DEPTH} levels`, keyword: "maxDepth" }],
    });
  }
  const validate = configValidator(manifest);
  let valid: boolean;
  try {
    valid = validate === undefined || validate(config);
  } catch (cause) {
    // A recursive configSchema meeting a deeply nested config exhausts the stack inside AJV.
    if (!(cause instanceof RangeError)) throw cause;
    throw new ProtocolError("PROTOCOL_TOO_LARGE", `plugin ${manifest.name}: config is nested too deeply to validate`, {
      problems: [{ instancePath: "/config", message: "nested too deeply", keyword: "maxDepth" }],
      cause,
    });
  }
  if (validate !== undefined && !valid) {
    const problems = problemsOf(validate).map((p) => ({ ...p, instancePath: `/config${p.instancePath}` }));
    throw new ProtocolError("PROTOCOL_INVALID", `plugin ${manifest.name}: invalid config`, { problems });
  }
  return config as Record<string, unknown>;
}
