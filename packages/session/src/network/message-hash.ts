/** The storage server's message hash (docs/session-protocol.md 4.10), reproducible by clients. */
import { fromHexStrict, concatBytes, toBase64, utf8 } from "../encoding.js";
import { SessionError } from "../errors.js";
import { sodium } from "../crypto/sodium.js";

/**
 * `base64(BLAKE2b-256(prefix || pubkey32 || ns || data))` without padding (43 characters).
 * Requires libsodium to be loaded (`await loadSodium()`).
 */
export function messageHash(pubkey: string, namespace: number, data: Uint8Array): string {
  const key = fromHexStrict(pubkey);
  if (key === null || key.length !== 33) throw new SessionError("SESSION_INVALID_SESSION_ID", "a pubkey is 66 hex characters");
  const ns = namespace === 0 ? new Uint8Array(0) : utf8(String(namespace));
  const digest = sodium().crypto_generichash(32, concatBytes(key, ns, data), null);
  return toBase64(digest).replace(/=+$/, "");
}
