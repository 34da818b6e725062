/**
 * The one error class of `@session-bot/protocol`.
 *
 * Check failures by `code`, not by `instanceof` (two copies of the package may be loaded).
 */

/** Every code a {@link ProtocolError} can carry (closed set). */
export const PROTOCOL_ERROR_CODES = [
  /** A value does not match its schema; `problems` lists each mismatch. */
  "PROTOCOL_INVALID",
  /** Bytes given to a `decodeX` function are not UTF-8 JSON. */
  "PROTOCOL_BAD_JSON",
  /**
   * JSON over a limit: bytes given to a `decodeX` function (or a value given to `encodeX`) exceed
   * `MAX_BUS_MESSAGE_BYTES` or nest deeper than `MAX_JSON_DEPTH`; an envelope limit; a plugin
   * config too deep for its recursive schema.
   */
  "PROTOCOL_TOO_LARGE",
  /** The message carries a `v` (major protocol version) this package does not speak. */
  "PROTOCOL_UNSUPPORTED_VERSION",
  /** A union message carries a `kind` / `action` / `encoding` tag this package does not know. */
  "PROTOCOL_UNKNOWN_KIND",
  /** A name builder got a token that is not allowed (empty, `.`, `*`, `>`, whitespace, pattern...). */
  "PROTOCOL_BAD_NAME",
] as const;

/** A {@link ProtocolError} code. */
export type ProtocolErrorCode = (typeof PROTOCOL_ERROR_CODES)[number];

/**
 * One reason a value was rejected.
 *
 * `instancePath` is a JSON Pointer (RFC 6901) into the rejected value: `""` is the value itself,
 * `/attachments/0/size` a nested field. For a missing required property the pointer names the
 * missing property (e.g. `/text`), not its parent.
 */
export interface ProtocolProblem {
  /** JSON Pointer to the offending location in the value. */
  readonly instancePath: string;
  /** Human-readable reason (never contains the offending value itself). */
  readonly message: string;
  /** The JSON Schema keyword that failed (`required`, `maxLength`, `pattern`, ...), when known. */
  readonly keyword?: string;
}

/** Options of {@link ProtocolError}. */
export interface ProtocolErrorOptions {
  /** The reasons, for `PROTOCOL_INVALID` (and one entry for the other codes when useful). */
  readonly problems?: readonly ProtocolProblem[];
  /** The underlying error (e.g. the `SyntaxError` of `JSON.parse`). */
  readonly cause?: unknown;
}

/** Error thrown by every parse, decode, encode and name function of this package. */
export class ProtocolError extends Error {
  override readonly name = "ProtocolError";
  /** Stable machine-readable code; see {@link PROTOCOL_ERROR_CODES}. */
  readonly code: ProtocolErrorCode;
  /** Every problem found (possibly empty). */
  readonly problems: readonly ProtocolProblem[];

  constructor(code: ProtocolErrorCode, message: string, options: ProtocolErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.problems = options.problems ?? [];
  }
}

/** True when `err` is a {@link ProtocolError} (checked by `name` and `code`, not `instanceof`). */
export function isProtocolError(err: unknown): err is ProtocolError {
  if (typeof err !== "object" || err === null) return false;
  const e = err as { name?: unknown; code?: unknown };
  return e.name === "ProtocolError" && typeof e.code === "string" && (PROTOCOL_ERROR_CODES as readonly string[]).includes(e.code);
}
