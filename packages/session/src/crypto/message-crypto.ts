/**
 * 1:1 message encryption (docs/session-protocol.md 2.2 and 2.3): sign-then-seal to the recipient's
 * X25519 key; open-then-verify, which also authenticates the sender.
 */
import { SessionError } from "../errors.js";
import { concatBytes } from "../encoding.js";
import type { Identity } from "../identity/identity.js";
import { sessionIdToX25519, x25519ToSessionId } from "../identity/session-id.js";
import { padMessage, unpadMessage } from "./padding.js";
import { sodium } from "./sodium.js";

const ED_PK = 32;
const SIG = 64;

/**
 * Pads `content` (serialized Content), signs it for `recipientSessionId` and seals it to that
 * recipient. The result goes into `Envelope.content`.
 */
export function encryptForRecipient(sender: Identity, recipientSessionId: string, content: Uint8Array): Uint8Array {
  const recipientX = sessionIdToX25519(recipientSessionId);
  const padded = padMessage(content);
  const signature = sender.sign(concatBytes(padded, sender.publicKeys.ed25519, recipientX));
  return sodium().crypto_box_seal(concatBytes(padded, sender.publicKeys.ed25519, signature), recipientX);
}

/** What {@link decryptForRecipient} authenticated. */
export interface DecryptedMessage {
  /** The sender's Session ID, derived from the key that signed the message. */
  senderSessionId: string;
  /** The sender's Ed25519 public key. */
  senderEd25519: Uint8Array;
  /** Unpadded serialized Content. */
  content: Uint8Array;
}

/**
 * Opens a sealed `Envelope.content` addressed to `recipient` and verifies the sender's signature.
 * @throws SessionError `SESSION_DECRYPT_FAILED` (not for us / corrupted), `SESSION_MALFORMED`
 * (too short inside), `SESSION_BAD_SIGNATURE` (signature does not verify).
 */
export function decryptForRecipient(recipient: Identity, ciphertext: Uint8Array): DecryptedMessage {
  const s = sodium();
  if (ciphertext.length < 48) {
    throw new SessionError("SESSION_DECRYPT_FAILED", "sealed box shorter than its 48-byte overhead", { details: { actual: ciphertext.length } });
  }
  const opened = recipient.openSealedBox(ciphertext);
  if (opened === null) throw new SessionError("SESSION_DECRYPT_FAILED", "sealed box does not open with our key (corrupted or for someone else)");
  if (opened.length <= ED_PK + SIG) {
    throw new SessionError("SESSION_MALFORMED", "opened message too short to hold a key and a signature", { details: { actual: opened.length } });
  }
  const padded = opened.subarray(0, opened.length - ED_PK - SIG);
  const senderEd25519 = opened.slice(opened.length - ED_PK - SIG, opened.length - SIG);
  const signature = opened.subarray(opened.length - SIG);
  let valid = false;
  try {
    valid = s.crypto_sign_verify_detached(signature, concatBytes(padded, senderEd25519, recipient.publicKeys.x25519), senderEd25519);
  } catch {
    valid = false;
  }
  if (!valid) throw new SessionError("SESSION_BAD_SIGNATURE", "message signature does not verify");
  let senderX: Uint8Array;
  try {
    senderX = s.crypto_sign_ed25519_pk_to_curve25519(senderEd25519);
  } catch (cause) {
    throw new SessionError("SESSION_BAD_SIGNATURE", "sender key is not a valid Ed25519 point", { cause });
  }
  return { senderSessionId: x25519ToSessionId(senderX), senderEd25519, content: unpadMessage(padded).slice() };
}
