/** Every way the devnet itself can fail (not the RPC errors it answers to clients). */
export const DEVNET_ERROR_CODES = [
  "DEVNET_BAD_OPTIONS",
  "DEVNET_PORT_IN_USE",
  "DEVNET_LISTEN_FAILED",
  "DEVNET_BAD_FAULT",
  "DEVNET_UNKNOWN_TARGET",
  "DEVNET_STORAGE",
  "DEVNET_STATE_FILE",
  "DEVNET_STOPPED",
] as const;

/** A closed set of string codes; check errors by `code`, not by class. */
export type DevnetErrorCode = (typeof DEVNET_ERROR_CODES)[number];

/** The base (and only) error class of `@session-bot/devnet`. */
export class DevnetError extends Error {
  override readonly name = "DevnetError";
  readonly code: DevnetErrorCode;

  constructor(code: DevnetErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
  }
}

/** True when `err` is a {@link DevnetError} (optionally with the given code). */
export function isDevnetError(err: unknown, code?: DevnetErrorCode): err is DevnetError {
  return (
    typeof err === "object" &&
    err !== null &&
    (err as { name?: unknown }).name === "DevnetError" &&
    (code === undefined || (err as { code?: unknown }).code === code)
  );
}
