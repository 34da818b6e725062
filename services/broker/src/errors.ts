/** Every way the broker fails on purpose. Check `err.code`, not `instanceof`. */
export const BROKER_ERROR_CODES = [
  "BROKER_CONFIG_INVALID",
  "BROKER_IDENTITY_INVALID",
  "BROKER_DATABASE",
  "BROKER_NATS_SETUP",
  "BROKER_ACTION_REJECTED",
  "BROKER_SEND_FAILED",
  "BROKER_REQUEST_INVALID",
  "BROKER_NOT_FOUND",
  "BROKER_BLOCKED",
] as const;

export type BrokerErrorCode = (typeof BROKER_ERROR_CODES)[number];

/** Base error of the broker: a stable `code`, a message without secrets, the original error as `cause`. */
export class BrokerError extends Error {
  override readonly name: string = "BrokerError";
  readonly code: BrokerErrorCode;
  /** True when retrying the same operation later may succeed (network, NATS, swarm unavailable). */
  readonly transient: boolean;

  constructor(code: BrokerErrorCode, message: string, opts: { cause?: unknown; transient?: boolean } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = code;
    this.transient = opts.transient ?? false;
  }
}

/** Configuration could not be parsed; `issues` names variables, never their values. */
export class ConfigError extends BrokerError {
  override readonly name = "ConfigError";
  readonly issues: readonly string[];
  constructor(issues: readonly string[], opts: { cause?: unknown } = {}) {
    super("BROKER_CONFIG_INVALID", `invalid configuration: ${issues.join("; ")}`, opts);
    this.issues = issues;
  }
}

/** True when `err` is a BrokerError with `code`. */
export function hasCode(err: unknown, code: BrokerErrorCode): boolean {
  return typeof err === "object" && err !== null && (err as { code?: unknown }).code === code;
}
