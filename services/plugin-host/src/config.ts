/**
 * The only place that reads the environment. Parsed once into a typed, validated object
 * (JSON Schema via protocol's AJV instance); `*_FILE` variants read secrets from files.
 */
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { Type, type Static } from "@sinclair/typebox";
import { ajv, BOT_NAME_PATTERN, DEFAULT_PARTITIONS, DEFAULT_PRESENCE_INTERVAL_MS, MAX_PARTITIONS, SESSION_ID_PATTERN } from "@session-bot/protocol";
import { HostError } from "./errors.js";

/** The plugins that ship with the project (loaded when PLUGIN_HOST_PLUGINS is not set). */
export const DEFAULT_PLUGINS = [
  "@session-bot/plugin-help",
  "@session-bot/plugin-echo",
  "@session-bot/plugin-ping",
  "@session-bot/plugin-reminders",
  "@session-bot/plugin-files",
  "@session-bot/plugin-admin",
] as const;

export const HostConfigSchema = Type.Object(
  {
    bot: Type.String({ pattern: BOT_NAME_PATTERN }),
    instance: Type.String({ pattern: "^[A-Za-z0-9_-]{1,64}$" }),
    nats: Type.Object({
      servers: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
      credsFile: Type.Optional(Type.String({ minLength: 1 })),
      user: Type.Optional(Type.String({ minLength: 1 })),
      pass: Type.Optional(Type.String()),
      token: Type.Optional(Type.String({ minLength: 1 })),
    }),
    logLevel: Type.Union(["fatal", "error", "warn", "info", "debug", "trace", "silent"].map((l) => Type.Literal(l))),
    http: Type.Object({ host: Type.String({ minLength: 1 }), port: Type.Integer({ minimum: 0, maximum: 65535 }) }),
    plugins: Type.Array(Type.String({ minLength: 1 })),
    pluginDir: Type.Optional(Type.String({ minLength: 1 })),
    partitions: Type.Integer({ minimum: 1, maximum: MAX_PARTITIONS }),
    concurrency: Type.Integer({ minimum: 1, maximum: 1024 }),
    partitionOwnership: Type.Boolean(),
    presenceIntervalMs: Type.Integer({ minimum: 100, maximum: 60_000 }),
    handlerTimeoutMs: Type.Integer({ minimum: 10, maximum: 3_600_000 }),
    ackWaitMs: Type.Integer({ minimum: 1_000, maximum: 3_600_000 }),
    maxDeliver: Type.Integer({ minimum: 1, maximum: 100 }),
    backoffMs: Type.Array(Type.Integer({ minimum: 0, maximum: 3_600_000 }), { minItems: 1, maxItems: 100 }),
    shutdownGraceMs: Type.Integer({ minimum: 0, maximum: 600_000 }),
    admins: Type.Array(Type.String({ pattern: SESSION_ID_PATTERN })),
    commandPrefix: Type.String({ minLength: 1, maxLength: 4, pattern: "^\\S+$" }),
    unknownCommandReply: Type.String({ maxLength: 1_000 }),
    pluginsEnabledByDefault: Type.Boolean(),
  },
  { additionalProperties: false },
);
/** plugin-host's configuration. */
export type HostConfig = Static<typeof HostConfigSchema>;

const validate = ajv.compile(HostConfigSchema);

type Env = Readonly<Record<string, string | undefined>>;

function secret(env: Env, name: string): string | undefined {
  const file = env[`${name}_FILE`];
  if (file !== undefined && file !== "") {
    try {
      return readFileSync(file, "utf8").trim();
    } catch (cause) {
      throw new HostError("HOST_BAD_CONFIG", `${name}_FILE: cannot read ${file}`, { cause });
    }
  }
  const v = env[name];
  return v === undefined || v === "" ? undefined : v;
}

function list(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  return value
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

function int(env: Env, name: string, fallback: number): number {
  const v = env[name];
  if (v === undefined || v === "") return fallback;
  if (!/^-?\d+$/.test(v.trim())) throw new HostError("HOST_BAD_CONFIG", `${name} must be an integer, got ${JSON.stringify(v)}`);
  return Number(v);
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const v = env[name];
  if (v === undefined || v === "") return fallback;
  if (/^(1|true|yes|on)$/i.test(v)) return true;
  if (/^(0|false|no|off)$/i.test(v)) return false;
  throw new HostError("HOST_BAD_CONFIG", `${name} must be true or false, got ${JSON.stringify(v)}`);
}

/** The default answer to an unknown command (`{command}` and `{prefix}` are replaced). */
export const DEFAULT_UNKNOWN_COMMAND_REPLY = "Unknown command {prefix}{command}. Send {prefix}help to see what I can do.";

/** Parses the environment (default: `process.env`). Throws HOST_BAD_CONFIG listing every problem. */
export function loadConfig(env: Env = process.env): HostConfig {
  const user = env.NATS_USER === "" ? undefined : env.NATS_USER;
  const pass = secret(env, "NATS_PASSWORD");
  const token = secret(env, "NATS_TOKEN");
  const credsFile = env.NATS_CREDS_FILE === "" ? undefined : env.NATS_CREDS_FILE;
  const pluginDir = env.PLUGIN_HOST_PLUGIN_DIR === "" ? undefined : env.PLUGIN_HOST_PLUGIN_DIR;
  const candidate = {
    bot: env.SB_BOT ?? "bot",
    instance: env.PLUGIN_HOST_INSTANCE ?? `${hostname().replace(/[^A-Za-z0-9_-]/g, "-").slice(0, 40)}-${process.pid}`,
    nats: {
      servers: list(env.NATS_URL) ?? ["nats://127.0.0.1:4222"],
      ...(credsFile !== undefined ? { credsFile } : {}),
      ...(user !== undefined ? { user } : {}),
      ...(pass !== undefined ? { pass } : {}),
      ...(token !== undefined ? { token } : {}),
    },
    logLevel: env.LOG_LEVEL ?? "info",
    http: { host: env.PLUGIN_HOST_HTTP_HOST ?? "127.0.0.1", port: int(env, "PLUGIN_HOST_HTTP_PORT", 9102) },
    plugins: list(env.PLUGIN_HOST_PLUGINS) ?? [...DEFAULT_PLUGINS],
    ...(pluginDir !== undefined ? { pluginDir } : {}),
    partitions: int(env, "SB_PARTITIONS", DEFAULT_PARTITIONS),
    // Default: as many events at once as there are partitions (a lone worker owns them all).
    concurrency: int(env, "PLUGIN_HOST_CONCURRENCY", int(env, "SB_PARTITIONS", DEFAULT_PARTITIONS)),
    partitionOwnership: bool(env, "PLUGIN_HOST_PARTITION_OWNERSHIP", true),
    presenceIntervalMs: int(env, "PLUGIN_HOST_PRESENCE_INTERVAL_MS", DEFAULT_PRESENCE_INTERVAL_MS),
    handlerTimeoutMs: int(env, "PLUGIN_HOST_HANDLER_TIMEOUT_MS", 10_000),
    ackWaitMs: int(env, "PLUGIN_HOST_ACK_WAIT_MS", 30_000),
    maxDeliver: int(env, "PLUGIN_HOST_MAX_DELIVER", 5),
    backoffMs: (list(env.PLUGIN_HOST_BACKOFF_MS) ?? ["1000", "5000", "15000", "30000"]).map((s) => {
      if (!/^\d+$/.test(s)) throw new HostError("HOST_BAD_CONFIG", `PLUGIN_HOST_BACKOFF_MS must be comma-separated integers, got ${JSON.stringify(s)}`);
      return Number(s);
    }),
    shutdownGraceMs: int(env, "PLUGIN_HOST_SHUTDOWN_GRACE_MS", 10_000),
    admins: list(env.PLUGIN_HOST_ADMINS) ?? [],
    commandPrefix: env.PLUGIN_HOST_COMMAND_PREFIX ?? "/",
    unknownCommandReply: env.PLUGIN_HOST_UNKNOWN_COMMAND_REPLY ?? DEFAULT_UNKNOWN_COMMAND_REPLY,
    pluginsEnabledByDefault: bool(env, "PLUGIN_HOST_PLUGINS_ENABLED_BY_DEFAULT", true),
  };
  if (!validate(candidate)) {
    const problems = (validate.errors ?? []).map((e) => `${e.instancePath || "(root)"} ${e.message ?? "is invalid"}`);
    throw new HostError("HOST_BAD_CONFIG", `invalid plugin-host configuration: ${problems.join("; ")}`);
  }
  if (candidate.handlerTimeoutMs >= candidate.ackWaitMs) {
    throw new HostError("HOST_BAD_CONFIG", "PLUGIN_HOST_HANDLER_TIMEOUT_MS must be below PLUGIN_HOST_ACK_WAIT_MS (or a slow handler's event is redelivered while it runs)");
  }
  return candidate;
}
