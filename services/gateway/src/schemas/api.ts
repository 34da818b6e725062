/**
 * Schemas that exist only at the gateway's HTTP edge (problems, readiness, plugin patches).
 * Documents of the bus are in `dto.ts` (from @session-bot/protocol).
 */
import { Type, type Static, type TSchema } from "@sinclair/typebox";
import { MAX_PLUGIN_NAME_LENGTH, PLUGIN_NAME_PATTERN } from "@session-bot/protocol";

/**
 * A `$ref` to a shared schema (registered with `app.addSchema`), typed as the schema itself.
 * Shared schemas become named components of the OpenAPI document.
 */
export function ref<T extends TSchema>(schema: T) {
  if (schema.$id === undefined) throw new TypeError("ref() needs a schema with an $id");
  return Type.Unsafe<Static<T>>(Type.Ref(schema.$id));
}

/** RFC 9457 problem details, as every error of the gateway is answered. */
export const Problem = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer({ minimum: 400, maximum: 599 }),
    detail: Type.String(),
    code: Type.String(),
    instance: Type.Optional(Type.String()),
    upstreamCode: Type.Optional(Type.String()),
    errors: Type.Optional(Type.Array(Type.Object({ path: Type.String(), message: Type.String() }))),
  },
  { $id: "Problem" },
);
export type Problem = Static<typeof Problem>;

export const PluginPatch = Type.Object(
  {
    enabled: Type.Optional(Type.Boolean({ description: "Run the plugin (true) or not." })),
    config: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: "The whole new config object, checked against the manifest's configSchema." })),
  },
  { $id: "PluginPatch", additionalProperties: false, minProperties: 1 },
);
export type PluginPatch = Static<typeof PluginPatch>;

export const PluginParams = Type.Object(
  { name: Type.String({ pattern: PLUGIN_NAME_PATTERN, minLength: 1, maxLength: MAX_PLUGIN_NAME_LENGTH }) },
  { additionalProperties: false },
);

const Check = Type.Object({ ok: Type.Boolean(), detail: Type.String() });

export const Readiness = Type.Object(
  {
    status: Type.Union([Type.Literal("ready"), Type.Literal("not_ready")]),
    checks: Type.Object({
      nats: Check,
      broker: Check,
      pluginHosts: Type.Object({ ok: Type.Boolean(), detail: Type.String(), count: Type.Integer({ minimum: 0 }) }),
    }),
  },
  { $id: "Readiness" },
);
export type Readiness = Static<typeof Readiness>;

export const Health = Type.Object({ status: Type.Literal("ok") }, { $id: "Health" });
