import { describe, expect, it, vi } from "vitest";
import { loadSodium, pooledRandomWord } from "./sodium.js";

describe("libsodium randomness", () => {
  it("answers libsodium from the pooled CSPRNG reader", async () => {
    const s = await loadSodium();
    expect((s as unknown as { libsodium: { getRandomValue: unknown } }).libsodium.getRandomValue).toBe(pooledRandomWord);
  });

  it("reads the system CSPRNG once per 1,024 words, not once per word", async () => {
    const s = await loadSodium();
    const spy = vi.spyOn(globalThis.crypto, "getRandomValues");
    try {
      const kp = s.crypto_box_keypair();
      for (let i = 0; i < 20; i++) s.crypto_box_seal(new Uint8Array(64), kp.publicKey);
      // 20 seals take ~1,300 words from libsodium: at most 2 refills, where the per-word way made ~1,300 calls.
      expect(spy.mock.calls.length).toBeLessThanOrEqual(2);
    } finally {
      spy.mockRestore();
    }
  });

  it("gives distinct, well-spread words (no stuck or zeroed output)", () => {
    const words = Array.from({ length: 5_000 }, () => pooledRandomWord());
    expect(new Set(words).size).toBeGreaterThan(4_990);
    const ones = words.reduce((a, w) => a + w.toString(2).split("1").length - 1, 0);
    // 160,000 bits: the share of ones is 0.5 ± a few thousandths.
    expect(Math.abs(ones / (32 * words.length) - 0.5)).toBeLessThan(0.01);
  });

  it("seals and opens with the pooled randomness, and two seals of one message differ", async () => {
    const s = await loadSodium();
    const kp = s.crypto_box_keypair();
    const msg = new TextEncoder().encode("hello");
    const a = s.crypto_box_seal(msg, kp.publicKey);
    const b = s.crypto_box_seal(msg, kp.publicKey);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
    expect(new TextDecoder().decode(s.crypto_box_seal_open(a, kp.publicKey, kp.privateKey))).toBe("hello");
  });
});
