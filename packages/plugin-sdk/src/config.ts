/** Plugin configuration: defaults from the schema, then validation with protocol's AJV instance. */
import { Value } from "@sinclair/typebox/value";
import type { TObject } from "@sinclair/typebox";
import { ajv } from "@session-bot/protocol";

import type { AnyPlugin } from "./define.js";
import { PluginError } from "./errors.js";

type ValidateFunction = ReturnType<typeof ajv.compile>;

const EMPTY_SCHEMA = { type: "object", properties: {}, additionalProperties: false } as const;
const validators = new WeakMap<object, ValidateFunction>();

function validatorOf(plugin: AnyPlugin): ValidateFunction {
  const schema: object = plugin.configSchema ?? EMPTY_SCHEMA;
  let v = validators.get(schema);
  if (!v) {
    try {
      v = ajv.compile(schema);
    } catch (cause) {
      throw new PluginError("PLUGIN_INVALID_DEFINITION", `plugin ${plugin.name}: configSchema does not compile: ${(cause as Error).message}`, { cause });
    }
    validators.set(schema, v);
  }
  return v;
}

/** Compiles the plugin's config schema once (call at load, so a bad schema is refused early). */
export function compileConfigSchema(plugin: AnyPlugin): void {
  validatorOf(plugin);
}

/**
 * The plugin's effective configuration: `raw` (default `{}`) with the schema's defaults filled in,
 * validated. Throws `PLUGIN_INVALID_CONFIG` listing the problems. `raw` is not modified.
 */
export function resolveConfig(plugin: AnyPlugin, raw: unknown = {}): Record<string, unknown> {
  const validate = validatorOf(plugin);
  const value: unknown = plugin.configSchema ? Value.Default(plugin.configSchema as TObject, structuredClone(raw ?? {})) : structuredClone(raw ?? {});
  if (!validate(value)) {
    const problems = (validate.errors ?? []).slice(0, 5).map((e) => `${e.instancePath === "" ? "(root)" : e.instancePath} ${e.message ?? "is invalid"}`);
    throw new PluginError("PLUGIN_INVALID_CONFIG", `invalid config for plugin ${plugin.name}: ${problems.join("; ")}`);
  }
  return value as Record<string, unknown>;
}
