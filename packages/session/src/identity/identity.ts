/**
 * A Session account: recovery password -> seed -> Ed25519 (signing) and X25519 (receiving)
 * keys -> Session ID (docs/session-protocol.md 1.3). Secrets live in private fields so they never
 * show up in logs, `JSON.stringify` or `util.inspect`.
 */
import { randomBytes } from "node:crypto";
import { inspect } from "node:util";
import { SessionError } from "../errors.js";
import { fromHexStrict, toHex } from "../encoding.js";
import { loadSodium, sodium } from "../crypto/sodium.js";
import { decodeMnemonic, encodeMnemonic } from "./mnemonic.js";
import { x25519ToSessionId } from "./session-id.js";

/** Public keys of an identity (safe to share and to log). */
export interface PublicKeys {
  /** 32-byte Ed25519 public key. */
  ed25519: Uint8Array;
  /** 32-byte X25519 public key (the Session ID without its 05 prefix). */
  x25519: Uint8Array;
}

/** A Session account with its keys. Create with {@link Identity.fromMnemonic}, {@link Identity.fromSeed} or {@link Identity.generate}. */
export class Identity {
  /** `05` + hex X25519 public key. */
  readonly sessionId: string;
  /** Ed25519 and X25519 public keys. */
  readonly publicKeys: Readonly<PublicKeys>;
  readonly #seed16: Uint8Array | null;
  readonly #edSecretKey: Uint8Array;
  readonly #xSecretKey: Uint8Array;

  private constructor(seed: Uint8Array) {
    const s = sodium();
    this.#seed16 = seed.length === 16 ? seed.slice() : null;
    const seed32 = new Uint8Array(32);
    seed32.set(seed);
    const ed = s.crypto_sign_seed_keypair(seed32);
    const xPk = s.crypto_sign_ed25519_pk_to_curve25519(ed.publicKey);
    this.#edSecretKey = ed.privateKey;
    this.#xSecretKey = s.crypto_sign_ed25519_sk_to_curve25519(ed.privateKey);
    this.publicKeys = Object.freeze({ ed25519: ed.publicKey, x25519: xPk });
    this.sessionId = x25519ToSessionId(xPk);
  }

  /**
   * The identity of a 13-word recovery password.
   * @throws SessionError `SESSION_INVALID_MNEMONIC`
   */
  static async fromMnemonic(mnemonic: string): Promise<Identity> {
    const seed = decodeMnemonic(mnemonic);
    await loadSodium();
    return new Identity(seed);
  }

  /**
   * The identity of a seed: 16 bytes (what a recovery password encodes; zero-padded to 32) or
   * 32 bytes (used as is), as bytes or hex.
   * @throws SessionError `SESSION_INVALID_SEED`
   */
  static async fromSeed(seed: Uint8Array | string): Promise<Identity> {
    const bytes = typeof seed === "string" ? fromHexStrict(seed) : seed;
    if (bytes === null || (bytes.length !== 16 && bytes.length !== 32)) {
      throw new SessionError("SESSION_INVALID_SEED", "a seed is 16 or 32 bytes (32 or 64 hex characters)");
    }
    await loadSodium();
    return new Identity(bytes);
  }

  /** A brand-new random identity (16 random bytes, so it has a recovery password). */
  static async generate(): Promise<Identity> {
    return Identity.fromSeed(new Uint8Array(randomBytes(16)));
  }

  /** Hex of the Ed25519 public key (64 characters). */
  get ed25519PublicKeyHex(): string {
    return toHex(this.publicKeys.ed25519);
  }

  /**
   * The 13-word recovery password. It is the account's secret: never log it.
   * @throws SessionError `SESSION_UNSUPPORTED` for identities made from a 32-byte seed.
   */
  mnemonic(): string {
    if (this.#seed16 === null) throw new SessionError("SESSION_UNSUPPORTED", "identities made from a 32-byte seed have no recovery password");
    return encodeMnemonic(this.#seed16);
  }

  /** Detached Ed25519 signature (64 bytes) of `message` with the account key. */
  sign(message: Uint8Array): Uint8Array {
    return sodium().crypto_sign_detached(message, this.#edSecretKey);
  }

  /**
   * Opens a sealed box addressed to this identity's X25519 key; returns null when it cannot.
   * (Kept here so the X25519 secret key never leaves the object.)
   */
  openSealedBox(ciphertext: Uint8Array): Uint8Array | null {
    try {
      return sodium().crypto_box_seal_open(ciphertext, this.publicKeys.x25519, this.#xSecretKey);
    } catch {
      return null;
    }
  }

  /**
   * First 32 bytes of the Ed25519 secret key (the 32-byte seed). Needed only for the
   * deterministic attachment scheme; never log it.
   */
  ed25519Seed(): Uint8Array {
    return this.#edSecretKey.slice(0, 32);
  }

  toJSON(): { sessionId: string } {
    return { sessionId: this.sessionId };
  }

  [inspect.custom](): string {
    return `Identity { sessionId: '${this.sessionId}' }`;
  }
}
