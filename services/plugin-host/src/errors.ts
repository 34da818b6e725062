/** The closed set of error codes raised by plugin-host. Check errors by `code`. */
export const HOST_ERROR_CODES = [
  /** The environment is invalid. */
  "HOST_BAD_CONFIG",
  /** A plugin could not be imported, or its module does not export a valid plugin. */
  "HOST_PLUGIN_LOAD_FAILED",
  /** Two loaded plugins share a name or a command. */
  "HOST_PLUGIN_CONFLICT",
  /** An inbound message is not a valid InboundEvent (poison: dead-lettered at once). */
  "HOST_BAD_EVENT",
  /** NATS resources the host needs (streams, buckets) are missing or unusable. */
  "HOST_NATS_SETUP_FAILED",
  /** An attachment transfer through the broker failed. */
  "HOST_ATTACHMENT_FAILED",
] as const;

/** One of {@link HOST_ERROR_CODES}. */
export type HostErrorCode = (typeof HOST_ERROR_CODES)[number];

/** The one error class of plugin-host. */
export class HostError extends Error {
  override readonly name = "HostError";
  readonly code: HostErrorCode;

  constructor(code: HostErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** True when `err` is a {@link HostError} (with `code`, when given). */
export function isHostError(err: unknown, code?: HostErrorCode): err is HostError {
  return (
    typeof err === "object" &&
    err !== null &&
    (err as { name?: unknown }).name === "HostError" &&
    (code === undefined || (err as { code?: unknown }).code === code)
  );
}
