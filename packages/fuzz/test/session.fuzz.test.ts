// Envelope and protobuf decoding, sealed-box opening and the whole inbound pipeline of
// @session-bot/session, fed random bytes and mutations of valid messages addressed to a real
// identity. Only SessionError (by code) may come out; classifyStoredMessage may never throw.
import fc from "fast-check";
import {
  Identity,
  SESSION_ERROR_CODES,
  classifyStoredMessage,
  decodeContent,
  decodeMnemonic,
  decryptAttachmentDeterministic,
  decryptAttachmentLegacy,
  decryptForRecipient,
  encodeMnemonic,
  encryptAttachment,
  encryptForRecipient,
  loadSodium,
  unwrapEnvelope,
  wrapEnvelope,
} from "@session-bot/session";
import { beforeAll, describe, expect, it } from "vitest";
import { contentBytes } from "../src/session-content.js";
import { startWatchdog, bounded, concat, expectTyped, expectTypedAsync, fuzzParams, heapUsed, HEAP_GROWTH_LIMIT, mutatedBytes } from "../src/index.js";

const SESSION = (codes: readonly string[]) => ({ name: "SessionError", codes });
const DECODE = SESSION(["SESSION_MALFORMED", "SESSION_UNSUPPORTED"]);
const OPEN = SESSION(["SESSION_DECRYPT_FAILED", "SESSION_MALFORMED", "SESSION_BAD_SIGNATURE"]);
const ATTACHMENT = SESSION(["SESSION_MALFORMED", "SESSION_DECRYPT_FAILED", "SESSION_ATTACHMENT_DIGEST_MISMATCH"]);

let self: Identity;
let peer: Identity;
let sodium: Awaited<ReturnType<typeof loadSodium>>;
let heapAtStart = 0;

beforeAll(async () => {
  await startWatchdog();
  sodium = await loadSodium();
  self = await Identity.generate();
  peer = await Identity.generate();
  heapAtStart = heapUsed();
});

/** A valid stored message from `peer` to `self` with the given Content bytes. */
function storedMessage(content: Uint8Array, timestamp: number): Uint8Array {
  return wrapEnvelope(encryptForRecipient(peer, self.sessionId, content), timestamp);
}
const timestamp = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
const validStored = fc.tuple(contentBytes, timestamp).map(([c, t]) => storedMessage(c, t));

function classifyNeverThrows(data: Uint8Array | null): void {
  const out = bounded("classifyStoredMessage", () => classifyStoredMessage(self, { hash: "h", expiration: 0 }, data));
  expect(["event", "ignored", "error"]).toContain(out.status);
  if (out.status === "error") {
    expect(out.error.name).toBe("SessionError");
    expect(SESSION_ERROR_CODES).toContain(out.error.code);
    // The result is JSON-serialisable (what the broker publishes).
  } else if (out.status === "event") {
    expect(() => JSON.stringify(out.event)).not.toThrow();
  }
}

describe("envelope decoding", () => {
  it("unwrapEnvelope: random bytes → result or SESSION_MALFORMED/UNSUPPORTED", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (b) => {
        bounded("unwrapEnvelope", () => expectTyped(DECODE, () => unwrapEnvelope(b)));
      }),
      fuzzParams(1_000),
    );
  });

  it("unwrapEnvelope: mutations of valid stored messages", () => {
    fc.assert(
      fc.property(mutatedBytes(validStored), (b) => {
        const out = bounded("unwrapEnvelope", () => expectTyped(DECODE, () => unwrapEnvelope(b)));
        if (out.ok) expect(Number.isSafeInteger(out.value.timestamp)).toBe(true);
      }),
      fuzzParams(400),
    );
  });

  it("decodeContent: random and mutated Content bytes → Content or SESSION_MALFORMED", () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 512 }), contentBytes, mutatedBytes(contentBytes)), (b) => {
        bounded("decodeContent", () => expectTyped(SESSION(["SESSION_MALFORMED"]), () => decodeContent(b)));
      }),
      fuzzParams(1_500),
    );
  });
});

describe("sealed-box opening (addressed to a real identity)", () => {
  it("decryptForRecipient: random ciphertexts", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (b) => {
        bounded("decryptForRecipient", () => expectTyped(OPEN, () => decryptForRecipient(self, b)));
      }),
      fuzzParams(500),
    );
  });

  it("decryptForRecipient: mutated valid ciphertexts never open to something else", () => {
    fc.assert(
      fc.property(contentBytes, fc.array(fc.nat(), { minLength: 1, maxLength: 3 }), fc.nat(7), (content, positions, bit) => {
        const sealed = encryptForRecipient(peer, self.sessionId, content);
        const bad = Uint8Array.from(sealed);
        for (const p of positions) bad[p % bad.length] = bad[p % bad.length]! ^ (1 << bit);
        const same = bad.every((x, i) => x === sealed[i]);
        const out = bounded("decryptForRecipient", () => expectTyped(OPEN, () => decryptForRecipient(self, bad)));
        if (!same) expect(out.ok).toBe(false);
      }),
      fuzzParams(300),
    );
  });

  it("decryptForRecipient: well-sealed boxes with hostile insides (short, unsigned, bad keys)", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 200 }),
          // payload || a random 32-byte "key" || a random signature
          fc.tuple(fc.uint8Array({ maxLength: 100 }), fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 64, maxLength: 64 })).map(
            ([p, k, s]) => concat(p, k, s),
          ),
          // properly signed by the peer over the wrong data (signature of another recipient)
          fc.uint8Array({ maxLength: 100 }).map((p) => concat(p, peer.publicKeys.ed25519, new Uint8Array(64))),
        ),
        (inner) => {
          const box = sodium.crypto_box_seal(inner, self.publicKeys.x25519);
          bounded("decryptForRecipient", () => expectTyped(OPEN, () => decryptForRecipient(self, box)));
        },
      ),
      fuzzParams(300),
    );
  });
});

describe("the inbound pipeline: classifyStoredMessage never throws", () => {
  it("on random bytes and null", () => {
    fc.assert(fc.property(fc.option(fc.uint8Array({ maxLength: 400 })), (b) => classifyNeverThrows(b)), fuzzParams(500));
  });

  it("on valid, signed messages with hostile Content", () => {
    fc.assert(fc.property(validStored, (b) => classifyNeverThrows(b)), fuzzParams(400));
  });

  it("on valid messages with mutated Content (re-signed, so the mutation reaches the classifier)", () => {
    fc.assert(
      fc.property(mutatedBytes(contentBytes), timestamp, (c, t) => classifyNeverThrows(storedMessage(c, t))),
      fuzzParams(400),
    );
  });

  it("on mutations of valid stored messages", () => {
    fc.assert(fc.property(mutatedBytes(validStored), (b) => classifyNeverThrows(b)), fuzzParams(300));
  });
});

describe("attachments and mnemonics", () => {
  it("decryptAttachmentLegacy / Deterministic: mutated blobs and keys", async () => {
    const plain = fc.uint8Array({ maxLength: 300 });
    await fc.assert(
      fc.asyncProperty(plain, fc.array(fc.nat(), { maxLength: 3 }), fc.integer({ min: -5, max: 1_000 }), async (p, flips, size) => {
        const legacy = encryptAttachment(p, { pad: true });
        const blob = Uint8Array.from(legacy.blob);
        for (const f of flips) blob[f % blob.length] = blob[f % blob.length]! ^ 0x01;
        bounded("decryptAttachmentLegacy", () => expectTyped(ATTACHMENT, () => decryptAttachmentLegacy(blob, legacy.key, legacy.digest, size)));
        const key32 = legacy.key.subarray(0, 32);
        const det = concat(Uint8Array.of(0x53), blob);
        await expectTypedAsync(ATTACHMENT, () => decryptAttachmentDeterministic(det, key32, size));
      }),
      fuzzParams(200),
    );
  });

  it("decodeMnemonic: mutated recovery passwords → seed or SESSION_INVALID_MNEMONIC", () => {
    const phrase = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((seed) => encodeMnemonic(seed));
    const mutatedPhrase = fc.tuple(phrase, fc.string({ maxLength: 10 }), fc.nat(), fc.nat(3)).map(([p, s, at, how]) => {
      const i = at % (p.length + 1);
      return how === 0 ? p.slice(0, i) + s + p.slice(i) : how === 1 ? p.slice(0, i) : how === 2 ? p.split(" ").reverse().join(" ") : p.toUpperCase() + s;
    });
    fc.assert(
      fc.property(mutatedPhrase, (p) => {
        bounded("decodeMnemonic", () => expectTyped(SESSION(["SESSION_INVALID_MNEMONIC"]), () => decodeMnemonic(p)));
      }),
      fuzzParams(500),
    );
  });

  it("heap growth over this suite stays bounded", () => {
    expect(heapUsed() - heapAtStart).toBeLessThan(HEAP_GROWTH_LIMIT);
  });
});
