/** Errors of `@session-bot/js-publisher`: a closed set of string codes. */

/** Why a publish failed. */
export const PUBLISH_ERROR_CODES = {
  /** No stream captures the subject (the server answered "no responders", status 503). */
  NO_STREAM: "PUBLISH_NO_STREAM",
  /** The stream refused the message (wrong expected stream, limits, ...); `apiCode` says which. */
  REFUSED: "PUBLISH_REFUSED",
  /** No ack within the timeout: the message may or may not be stored — publish it again with the same id. */
  TIMEOUT: "PUBLISH_TIMEOUT",
  /** The publisher (or its connection) was closed before the ack came. */
  CLOSED: "PUBLISH_CLOSED",
  /** The ack could not be read (not JSON, or not a JetStream ack). */
  BAD_ACK: "PUBLISH_BAD_ACK",
} as const;
/** A publish error code. */
export type PublishErrorCode = (typeof PUBLISH_ERROR_CODES)[keyof typeof PUBLISH_ERROR_CODES];

/** A failed publish. `apiCode` is JetStream's `err_code` when the stream refused the message. */
export class PublishError extends Error {
  override readonly name = "PublishError";
  readonly apiCode: number | undefined;

  constructor(
    readonly code: PublishErrorCode,
    message: string,
    options: { apiCode?: number; cause?: unknown } = {},
  ) {
    super(message, options.cause !== undefined ? { cause: options.cause } : undefined);
    this.apiCode = options.apiCode;
  }
}

/** True when `err` is a {@link PublishError} (with `code`, when given). */
export function isPublishError(err: unknown, code?: PublishErrorCode): err is PublishError {
  return err instanceof PublishError && (code === undefined || err.code === code);
}
