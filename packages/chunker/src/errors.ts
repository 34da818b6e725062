/**
 * Every way this package fails, as a closed set of stable codes. Callers check `err.code`
 * (not `instanceof`, which breaks across duplicated installs); the low-level error, when there
 * is one, is kept as `cause`.
 */
export const CHUNK_ERROR_CODES = [
  // frames
  "CHUNK_MALFORMED",
  "CHUNK_BAD_VERSION",
  "CHUNK_CORRUPT",
  // reassembly
  "CHUNK_HEADER_MISMATCH",
  "CHUNK_DIGEST_MISMATCH",
  "CHUNK_TOO_LARGE",
  "CHUNK_TOO_MANY_FRAGMENTS",
  "CHUNK_TOO_MANY_PENDING",
  "CHUNK_BUFFER_FULL",
  "CHUNK_EXPIRED",
  "CHUNK_BAD_JSON",
  // caller mistakes
  "CHUNK_INVALID_ARGUMENT",
  // NATS binding
  "CHUNK_TIMEOUT",
  "CHUNK_FLOW",
  "CHUNK_NO_RESPONDERS",
  "CHUNK_REMOTE",
  "CHUNK_ABORTED",
] as const;

/** One of {@link CHUNK_ERROR_CODES}. */
export type ChunkErrorCode = (typeof CHUNK_ERROR_CODES)[number];

/** Extra, non-secret facts about a failure. */
export interface ChunkErrorDetails {
  /** Message id concerned, when known. */
  id?: string;
  /** A size or count limit that was exceeded. */
  limit?: number;
  /** The actual (claimed) size or count. */
  actual?: number;
  /** For `CHUNK_REMOTE`: the code the far side reported (a `ChunkErrorCode` or the handler's own code). */
  remoteCode?: string;
}

/** The one error class of `@session-bot/chunker`. */
export class ChunkError extends Error {
  override readonly name = "ChunkError";
  readonly code: ChunkErrorCode;
  readonly details: ChunkErrorDetails;

  constructor(code: ChunkErrorCode, message: string, options: { cause?: unknown; details?: ChunkErrorDetails } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details ?? {};
  }

  /** For `CHUNK_REMOTE`: the far side's code. */
  get remoteCode(): string | undefined {
    return this.details.remoteCode;
  }
}

/** True when `err` is a {@link ChunkError} (checked by shape, so it works across module copies). */
export function isChunkError(err: unknown): err is ChunkError {
  if (!(err instanceof Error) || err.name !== "ChunkError") return false;
  const code = (err as { code?: unknown }).code;
  return typeof code === "string" && (CHUNK_ERROR_CODES as readonly string[]).includes(code);
}
