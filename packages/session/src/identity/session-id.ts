/** Session IDs: `05` + hex of the 32-byte X25519 public key (66 hex characters). */
import { SessionError } from "../errors.js";
import { fromHexStrict, toHex } from "../encoding.js";

/** Prefix byte (as hex) of standard account Session IDs. */
export const SESSION_ID_PREFIX = "05";

/** True when `value` is a 66-hex-character Session ID with the `05` prefix. */
export function isSessionId(value: unknown): value is string {
  return typeof value === "string" && /^05[0-9a-f]{64}$/i.test(value);
}

/**
 * The 32-byte X25519 public key of a Session ID.
 * @throws SessionError `SESSION_INVALID_SESSION_ID`
 */
export function sessionIdToX25519(sessionId: string): Uint8Array {
  if (!isSessionId(sessionId)) {
    throw new SessionError("SESSION_INVALID_SESSION_ID", "a Session ID is 66 hex characters starting with 05");
  }
  return fromHexStrict(sessionId.slice(2)) as Uint8Array;
}

/** The Session ID of an X25519 public key. */
export function x25519ToSessionId(x25519PublicKey: Uint8Array): string {
  if (x25519PublicKey.length !== 32) {
    throw new SessionError("SESSION_INVALID_SESSION_ID", "an X25519 public key is 32 bytes");
  }
  return SESSION_ID_PREFIX + toHex(x25519PublicKey);
}

/** Lowercase form of a valid Session ID (throws like {@link sessionIdToX25519}). */
export function normaliseSessionId(sessionId: string): string {
  sessionIdToX25519(sessionId);
  return sessionId.toLowerCase();
}
