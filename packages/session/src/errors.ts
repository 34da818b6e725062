/**
 * Every way this package fails, as a closed set of stable codes. Callers check `err.code`
 * (not `instanceof`, which breaks across duplicated installs); the low-level error, when there
 * is one, is kept as `cause`. Messages never contain secrets (mnemonics, seeds, private keys).
 */
export const SESSION_ERROR_CODES = [
  // identity
  "SESSION_INVALID_MNEMONIC",
  "SESSION_INVALID_SEED",
  "SESSION_INVALID_SESSION_ID",
  // crypto / decoding of inbound data
  "SESSION_DECRYPT_FAILED",
  "SESSION_BAD_SIGNATURE",
  "SESSION_MALFORMED",
  "SESSION_UNSUPPORTED",
  // sending
  "SESSION_INVALID_ARGUMENT",
  "SESSION_TEXT_TOO_LONG",
  "SESSION_PAYLOAD_TOO_LARGE",
  // network
  "SESSION_NETWORK",
  "SESSION_TIMEOUT",
  "SESSION_RPC_REJECTED",
  "SESSION_NO_SNODES",
  "SESSION_CLOCK_SKEW",
  "SESSION_RATE_LIMITED",
  // attachments
  "SESSION_ATTACHMENT_TOO_LARGE",
  "SESSION_ATTACHMENT_DIGEST_MISMATCH",
  "SESSION_ATTACHMENT_URL_NOT_ALLOWED",
  "SESSION_FILE_SERVER",
  // client lifecycle
  "SESSION_CLOSED",
] as const;

/** One of {@link SESSION_ERROR_CODES}. */
export type SessionErrorCode = (typeof SESSION_ERROR_CODES)[number];

/** Extra, non-secret facts about a failure (HTTP status, snode, sizes, ...). */
export interface SessionErrorDetails {
  /** HTTP status of a storage-server or file-server answer. */
  status?: number;
  /** Ed25519 public key (hex) of the snode involved. */
  snode?: string;
  /** Storage-server message hash involved. */
  hash?: string;
  /** A size or count limit that was exceeded. */
  limit?: number;
  /** The actual size or count. */
  actual?: number;
}

/** The one error class of `@session-bot/session`. */
export class SessionError extends Error {
  override readonly name = "SessionError";
  readonly code: SessionErrorCode;
  readonly details: SessionErrorDetails;

  constructor(code: SessionErrorCode, message: string, options: { cause?: unknown; details?: SessionErrorDetails } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details ?? {};
  }
}

/** True when `err` is a {@link SessionError} (checked by shape, so it works across copies). */
export function isSessionError(err: unknown, code?: SessionErrorCode): err is SessionError {
  if (typeof err !== "object" || err === null) return false;
  const e = err as { name?: unknown; code?: unknown };
  if (e.name !== "SessionError" || typeof e.code !== "string") return false;
  return code === undefined || e.code === code;
}
