import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { padMessage, unpadMessage } from "./padding.js";

function legacyPad(p: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil((p.length + 2) / 160) * 160 - 1);
  out.set(p);
  out[p.length] = 0x80;
  return out;
}

describe("padding (section 2.1)", () => {
  it("pads to the libsession lengths", () => {
    for (const [l, padded] of [[0, 160], [158, 160], [159, 320], [319, 480]] as const) {
      const out = padMessage(new Uint8Array(l).fill(7));
      expect(out.length).toBe(padded);
      expect(out[l]).toBe(0x80);
      expect(out.subarray(l + 1).every((b) => b === 0)).toBe(true);
    }
  });
  it("unpads both variants back to the plaintext, including plaintexts ending in zeros", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 700 }), (p) => {
        expect(unpadMessage(padMessage(p))).toEqual(p);
        expect(unpadMessage(legacyPad(p))).toEqual(p);
      }),
      { numRuns: 200 },
    );
  });
  it("checks the legacy lengths of the reference", () => {
    expect([0, 158, 159, 318].map((l) => legacyPad(new Uint8Array(l)).length)).toEqual([159, 159, 319, 319]);
  });
  it("returns unpadded data unchanged", () => {
    const data = Uint8Array.of(1, 2, 3, 0, 0);
    expect(unpadMessage(data)).toEqual(data);
    expect(unpadMessage(new Uint8Array(0))).toEqual(new Uint8Array(0));
  });
});
