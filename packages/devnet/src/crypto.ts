// The devnet's own crypto, written from the protocol reference (sections 1.3, 4.5, 4.10), so that
// it checks the session client independently instead of sharing its code.
import sodium from "libsodium-wrappers-sumo";

let readyPromise: Promise<void> | undefined;

/** Resolves once libsodium is initialised; every other function here needs it. */
export function sodiumReady(): Promise<void> {
  readyPromise ??= sodium.ready;
  return readyPromise;
}

/** An Ed25519 key pair with its X25519 conversion. */
export interface KeyPair {
  readonly edPk: Uint8Array;
  /** 64 bytes: seed || public key. */
  readonly edSk: Uint8Array;
  readonly xPk: Uint8Array;
}

/** Ed25519 key pair from a 32-byte seed, and the X25519 public key derived from it. */
export function keyPairFromSeed(seed32: Uint8Array): KeyPair {
  const kp = sodium.crypto_sign_seed_keypair(seed32);
  return {
    edPk: kp.publicKey,
    edSk: kp.privateKey,
    xPk: sodium.crypto_sign_ed25519_pk_to_curve25519(kp.publicKey),
  };
}

/** Unkeyed (or keyed) BLAKE2b with the given output length. */
export function blake2b(outLen: number, data: Uint8Array | string, key?: Uint8Array): Uint8Array {
  return sodium.crypto_generichash(outLen, data, key ?? null);
}

/** Converts an Ed25519 public key to X25519; undefined when the point is invalid. */
export function edPkToX(edPk: Uint8Array): Uint8Array | undefined {
  try {
    return sodium.crypto_sign_ed25519_pk_to_curve25519(edPk);
  } catch {
    return undefined;
  }
}

/** Detached Ed25519 signature over the UTF-8 string or bytes `message`. */
export function signDetached(message: Uint8Array | string, edSk: Uint8Array): Uint8Array {
  return sodium.crypto_sign_detached(message, edSk);
}

/** Verifies a detached Ed25519 signature; never throws. */
export function verifyDetached(sig: Uint8Array, message: Uint8Array | string, edPk: Uint8Array): boolean {
  if (sig.length !== 64 || edPk.length !== 32) return false;
  try {
    return sodium.crypto_sign_verify_detached(sig, message, edPk);
  } catch {
    return false;
  }
}

/**
 * The storage server's message hash (reference 4.10): base64 (no padding) of
 * BLAKE2b-256(prefixByte || pubkey32 || ns || data), ns = "" for namespace 0 else its decimal text.
 */
export function messageHash(pubkey33: Uint8Array, namespace: number, data: Uint8Array): string {
  const ns = namespace === 0 ? new Uint8Array(0) : Buffer.from(String(namespace), "ascii");
  const input = Buffer.concat([pubkey33, ns, data]);
  return Buffer.from(blake2b(32, input)).toString("base64").replace(/=+$/, "");
}
