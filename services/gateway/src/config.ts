import { readFileSync } from "node:fs";
import { Type, type Static } from "@sinclair/typebox";
import { BOT_NAME_PATTERN } from "@session-bot/protocol";
import { GatewayError } from "./errors.js";
import { ajv, describeErrors } from "./validation/ajv.js";


const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

/** The gateway's configuration, checked once at start. Types come from this schema. */
export const ConfigSchema = Type.Object(
  {
    bot: Type.String({ pattern: BOT_NAME_PATTERN }),
    host: Type.String({ minLength: 1 }),
    port: Type.Integer({ minimum: 0, maximum: 65535 }),
    logLevel: Type.Union(LOG_LEVELS.map((l) => Type.Literal(l))),
    nats: Type.Object(
      {
        servers: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
        credsFile: Type.Optional(Type.String({ minLength: 1 })),
        user: Type.Optional(Type.String({ minLength: 1 })),
        password: Type.Optional(Type.String()),
        token: Type.Optional(Type.String({ minLength: 1 })),
      },
      { additionalProperties: false },
    ),
    /** Admin bearer tokens; at least one, each at least 16 characters. */
    adminTokens: Type.Array(Type.String({ minLength: 16, maxLength: 512 }), { minItems: 1 }),
    /** Origins allowed by CORS; empty = CORS off (no CORS headers at all). */
    corsOrigins: Type.Array(Type.String({ minLength: 1 })),
    rateLimit: Type.Object(
      {
        max: Type.Integer({ minimum: 1 }),
        windowMs: Type.Integer({ minimum: 100 }),
      },
      { additionalProperties: false },
    ),
    /** Largest accepted request body in bytes. */
    bodyLimit: Type.Integer({ minimum: 1024, maximum: 16 * 1024 * 1024 }),
    /** Timeout of one request to the broker over NATS. */
    requestTimeoutMs: Type.Integer({ minimum: 100, maximum: 120_000 }),
    /** How long to collect `$SRV.PING/STATS` answers from the fleet. */
    discoveryWaitMs: Type.Integer({ minimum: 50, maximum: 10_000 }),
    trustProxy: Type.Boolean(),
  },
  { additionalProperties: false },
);

export type Config = Static<typeof ConfigSchema>;

const validateConfig = ajv.compile<Config>(ConfigSchema);

type Env = Record<string, string | undefined>;

/**
 * Reads the configuration from `env` (the only place the gateway looks at the environment).
 * Secrets may come from `<NAME>_FILE`; setting both the variable and its `_FILE` is an error.
 * Throws `GatewayError` `CONFIG_INVALID` naming the variables at fault, never their values.
 */
export function loadConfig(env: Env): Config {
  const candidate = {
    bot: env.SB_BOT ?? "bot",
    host: env.GATEWAY_HOST ?? "127.0.0.1",
    port: int(env.GATEWAY_PORT, 8080),
    logLevel: env.LOG_LEVEL ?? "info",
    nats: dropUndefined({
      servers: list(env.NATS_URL ?? "nats://127.0.0.1:4222"),
      credsFile: env.NATS_CREDS_FILE,
      user: env.NATS_USER,
      password: secret(env, "NATS_PASSWORD"),
      token: secret(env, "NATS_TOKEN"),
    }),
    adminTokens: adminTokens(env),
    corsOrigins: list(env.GATEWAY_CORS_ORIGINS ?? ""),
    rateLimit: {
      max: int(env.GATEWAY_RATE_LIMIT_MAX, 300),
      windowMs: int(env.GATEWAY_RATE_LIMIT_WINDOW_MS, 60_000),
    },
    bodyLimit: int(env.GATEWAY_BODY_LIMIT, 64 * 1024),
    requestTimeoutMs: int(env.GATEWAY_REQUEST_TIMEOUT_MS, 5_000),
    discoveryWaitMs: int(env.GATEWAY_DISCOVERY_WAIT_MS, 300),
    trustProxy: bool(env.GATEWAY_TRUST_PROXY, false),
  };
  if (!validateConfig(candidate)) {
    // Paths and messages only: a value could be a secret.
    const errors = describeErrors(validateConfig.errors);
    throw new GatewayError("CONFIG_INVALID", `invalid configuration: ${errors.map((e) => `${e.path} ${e.message}`).join("; ")}`, {
      details: { errors },
    });
  }
  return candidate;
}

function adminTokens(env: Env): string[] {
  const raw = secret(env, "GATEWAY_ADMIN_TOKENS");
  if (raw === undefined) {
    throw new GatewayError("CONFIG_INVALID", "invalid configuration: GATEWAY_ADMIN_TOKENS or GATEWAY_ADMIN_TOKENS_FILE is required");
  }
  // Comma- or newline-separated, so a file can hold one token per line.
  return raw
    .split(/[\n,]/)
    .map((t) => t.trim())
    .filter((t) => t.length > 0);
}

function secret(env: Env, name: string): string | undefined {
  const direct = env[name];
  const file = env[`${name}_FILE`];
  if (direct !== undefined && file !== undefined) {
    throw new GatewayError("CONFIG_INVALID", `invalid configuration: set ${name} or ${name}_FILE, not both`);
  }
  if (file === undefined) return direct;
  try {
    return readFileSync(file, "utf8").trim();
  } catch (cause) {
    throw new GatewayError("CONFIG_INVALID", `invalid configuration: cannot read ${name}_FILE`, { cause });
  }
}

function int(raw: string | undefined, fallback: number): number | string {
  if (raw === undefined || raw.trim() === "") return fallback;
  // Left as a string when not an integer, so the schema reports the type error.
  return /^-?\d+$/.test(raw.trim()) ? Number(raw.trim()) : raw;
}

function bool(raw: string | undefined, fallback: boolean): boolean | string {
  if (raw === undefined || raw.trim() === "") return fallback;
  const v = raw.trim().toLowerCase();
  if (v === "true" || v === "1") return true;
  if (v === "false" || v === "0") return false;
  return raw;
}

function list(raw: string): string[] {
  return raw
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

function dropUndefined<T extends Record<string, unknown>>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
