/** The closed set of error codes raised by the plugin SDK. Check errors by `code`, not `instanceof`. */
export const PLUGIN_ERROR_CODES = [
  /** A plugin definition (manifest, commands, handlers) is invalid. */
  "PLUGIN_INVALID_DEFINITION",
  /** A configuration value does not match the plugin's `configSchema`. */
  "PLUGIN_INVALID_CONFIG",
  /** A store key is not allowed (characters, length) or a stored value is not JSON. */
  "PLUGIN_INVALID_KEY",
  /** A store value is too large or not serialisable. */
  "PLUGIN_INVALID_VALUE",
  /** A reply or action is malformed (empty text, too long, too many attachments...). */
  "PLUGIN_INVALID_ACTION",
  /** An attachment could not be fetched or uploaded. */
  "PLUGIN_ATTACHMENT_FAILED",
  /** The handler ran past its timeout and was aborted. */
  "PLUGIN_TIMEOUT",
  /** A handler threw; `cause` holds what it threw. */
  "PLUGIN_HANDLER_FAILED",
  /** The operation needs something this context does not have (e.g. no conversation to reply to). */
  "PLUGIN_UNSUPPORTED",
] as const;

/** One of {@link PLUGIN_ERROR_CODES}. */
export type PluginErrorCode = (typeof PLUGIN_ERROR_CODES)[number];

/** The one error class of the SDK: a stable `code`, a message, and the underlying `cause`. */
export class PluginError extends Error {
  override readonly name = "PluginError";
  readonly code: PluginErrorCode;

  constructor(code: PluginErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** True when `err` is a {@link PluginError} with the given code (or any code when omitted). */
export function isPluginError(err: unknown, code?: PluginErrorCode): err is PluginError {
  return (
    typeof err === "object" &&
    err !== null &&
    (err as { name?: unknown }).name === "PluginError" &&
    typeof (err as { code?: unknown }).code === "string" &&
    (code === undefined || (err as { code: string }).code === code)
  );
}
