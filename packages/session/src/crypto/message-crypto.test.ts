import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { Identity } from "../identity/identity.js";
import { decryptForRecipient, encryptForRecipient } from "./message-crypto.js";
import { padMessage } from "./padding.js";
import { loadSodium } from "./sodium.js";
import { concatBytes } from "../encoding.js";
import { isSessionError, type SessionErrorCode } from "../errors.js";

const alice = await Identity.generate();
const bob = await Identity.generate();
const eve = await Identity.generate();
const sodium = await loadSodium();

function failure(fn: () => unknown): SessionErrorCode | "no-error" | "crash" {
  try {
    fn();
    return "no-error";
  } catch (err) {
    return isSessionError(err) ? err.code : "crash";
  }
}

describe("sign-then-seal / open-then-verify (section 2.2, 2.3)", () => {
  it("round-trips and authenticates the sender", () => {
    const content = new TextEncoder().encode("hello bob");
    const c = encryptForRecipient(alice, bob.sessionId, content);
    expect(c.length).toBe(160 + 96 + 48);
    const opened = decryptForRecipient(bob, c);
    expect(opened.senderSessionId).toBe(alice.sessionId);
    expect(opened.senderEd25519).toEqual(alice.publicKeys.ed25519);
    expect(opened.content).toEqual(content);
  });
  it("gives 303 bytes of ciphertext for a 159-byte legacy-padded payload (reference round trip)", () => {
    const s = new Uint8Array(159 + 96);
    expect(sodium.crypto_box_seal(s, bob.publicKeys.x25519).length).toBe(303);
  });
  it("rejects a message for someone else", () => {
    const c = encryptForRecipient(alice, bob.sessionId, Uint8Array.of(1, 2, 3));
    expect(failure(() => decryptForRecipient(eve, c))).toBe("SESSION_DECRYPT_FAILED");
  });
  it("rejects a message signed for another recipient and re-sealed (mis-addressed)", () => {
    // Eve receives a message from Alice and forwards the inner signed payload sealed to Bob:
    // the signature covers Eve's key, so Bob must refuse it.
    const c = encryptForRecipient(alice, eve.sessionId, Uint8Array.of(9, 9));
    const inner = eve.openSealedBox(c)!;
    const resealed = sodium.crypto_box_seal(inner, bob.publicKeys.x25519);
    expect(failure(() => decryptForRecipient(bob, resealed))).toBe("SESSION_BAD_SIGNATURE");
  });
  it("rejects a forged sender key", () => {
    const padded = padMessage(Uint8Array.of(1));
    const sig = alice.sign(concatBytes(padded, alice.publicKeys.ed25519, bob.publicKeys.x25519));
    const forged = sodium.crypto_box_seal(concatBytes(padded, eve.publicKeys.ed25519, sig), bob.publicKeys.x25519);
    expect(failure(() => decryptForRecipient(bob, forged))).toBe("SESSION_BAD_SIGNATURE");
  });
  it("rejects an opened payload too short to hold key and signature", () => {
    const short = sodium.crypto_box_seal(new Uint8Array(96), bob.publicKeys.x25519);
    expect(failure(() => decryptForRecipient(bob, short))).toBe("SESSION_MALFORMED");
  });
  it("never crashes on tampered or truncated input", () => {
    const c = encryptForRecipient(alice, bob.sessionId, new TextEncoder().encode("integrity"));
    fc.assert(
      fc.property(fc.nat({ max: c.length - 1 }), fc.integer({ min: 1, max: 255 }), fc.nat({ max: c.length - 1 }), (pos, xor, cut) => {
        const tampered = c.slice();
        tampered[pos] = (tampered[pos] ?? 0) ^ xor;
        expect(failure(() => decryptForRecipient(bob, tampered))).toMatch(/^SESSION_(DECRYPT_FAILED|BAD_SIGNATURE|MALFORMED)$/);
        expect(failure(() => decryptForRecipient(bob, c.subarray(0, cut)))).toMatch(/^SESSION_(DECRYPT_FAILED|BAD_SIGNATURE|MALFORMED)$/);
      }),
      { numRuns: 150 },
    );
  });
});
