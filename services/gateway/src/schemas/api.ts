/**
 * Schemas of what the gateway itself composes (fleet views, readiness, problems). Everything the
 * broker answers is in `dto.ts`.
 */
import { Type, type Static, type TSchema } from "@sinclair/typebox";
import { PluginCounters, PluginName, Timestamp } from "./dto.js";

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

export const Worker = Type.Object(
  {
    id: Type.String(),
    instance: Type.Optional(Type.String()),
    version: Type.String(),
    started: Type.Optional(Type.String()),
    inFlight: Type.Optional(Type.Integer({ minimum: 0 })),
    requests: Type.Integer({ minimum: 0 }),
    errors: Type.Integer({ minimum: 0 }),
    plugins: Type.Array(PluginCounters),
  },
  {},
);
export type Worker = Static<typeof Worker>;

export const WorkerList = Type.Object(
  { service: Type.String(), count: Type.Integer({ minimum: 0 }), workers: Type.Array(Worker) },
  { $id: "WorkerList" },
);
export type WorkerList = Static<typeof WorkerList>;

export const ConsumerLag = Type.Object(
  {
    name: Type.String(),
    pending: Type.Integer({ minimum: 0 }),
    ackPending: Type.Integer({ minimum: 0 }),
    redelivered: Type.Integer({ minimum: 0 }),
    waiting: Type.Integer({ minimum: 0 }),
  },
  {},
);
export type ConsumerLag = Static<typeof ConsumerLag>;

export const StreamStatus = Type.Object(
  {
    name: Type.String(),
    exists: Type.Boolean(),
    messages: Type.Integer({ minimum: 0 }),
    bytes: Type.Integer({ minimum: 0 }),
    consumers: Type.Array(ConsumerLag),
  },
  {},
);
export type StreamStatus = Static<typeof StreamStatus>;

export const StreamList = Type.Object({ streams: Type.Array(StreamStatus) }, { $id: "StreamList" });
export type StreamList = Static<typeof StreamList>;

export const PluginStatus = Type.Object(
  {
    name: Type.String(),
    version: Type.String(),
    description: Type.Optional(Type.String()),
    enabled: Type.Boolean(),
    /** False when no record exists yet in `sb_plugins` (the plugin runs with its defaults). */
    configured: Type.Boolean(),
    config: Type.Record(Type.String(), Type.Unknown()),
    configSchema: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    updatedAt: Type.Optional(Timestamp),
    handled: Type.Integer({ minimum: 0 }),
    errors: Type.Integer({ minimum: 0 }),
  },
  { $id: "PluginStatus" },
);
export type PluginStatus = Static<typeof PluginStatus>;

export const PluginList = Type.Object({ plugins: Type.Array(ref(PluginStatus)) }, { $id: "PluginList" });
export type PluginList = Static<typeof PluginList>;

export const PluginPatch = Type.Object(
  {
    enabled: Type.Optional(Type.Boolean()),
    config: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  { $id: "PluginPatch", additionalProperties: false, minProperties: 1 },
);
export type PluginPatch = Static<typeof PluginPatch>;

export const PluginParams = Type.Object({ name: PluginName }, { additionalProperties: false });

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
