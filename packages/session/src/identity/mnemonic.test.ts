import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { decodeMnemonic, decodeMnemonicHex, encodeMnemonic, MNEMONIC_WORD_COUNT } from "./mnemonic.js";
import { ENGLISH_WORDS } from "./english-words.js";
import { isSessionError } from "../errors.js";

const VECTOR_MNEMONIC = "puffin luxury annoyed rustled memoir faxed smidgen puddle kiwi nylon utopia zinger kiwi";
const VECTOR_SEED = "39038c8988db02c1af44e8c847bd9713";

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return isSessionError(err) ? err.code : "not-a-session-error";
  }
  return undefined;
}

describe("word list", () => {
  it("has 1626 words, abbey..zoom, with unique 3-letter prefixes", () => {
    expect(ENGLISH_WORDS).toHaveLength(1626);
    expect(ENGLISH_WORDS[0]).toBe("abbey");
    expect(ENGLISH_WORDS[1625]).toBe("zoom");
    expect(new Set(ENGLISH_WORDS.map((w) => w.slice(0, 3))).size).toBe(1626);
  });
});

describe("mnemonic (section 1.4 vector)", () => {
  it("decodes the reference phrase to the reference seed", () => {
    expect(decodeMnemonicHex(VECTOR_MNEMONIC)).toBe(VECTOR_SEED);
  });
  it("encodes the reference seed to the reference phrase", () => {
    expect(encodeMnemonic(VECTOR_SEED)).toBe(VECTOR_MNEMONIC);
  });
  it("normalises case and white space, and matches on 3-letter prefixes", () => {
    const messy = `  ${VECTOR_MNEMONIC.toUpperCase().replace(/ /g, "  \t")}\n`;
    expect(decodeMnemonicHex(messy)).toBe(VECTOR_SEED);
    const prefixes = VECTOR_MNEMONIC.split(" ").map((w) => w.slice(0, 3)).join(" ");
    expect(decodeMnemonicHex(prefixes)).toBe(VECTOR_SEED);
  });
  it("round-trips random seeds", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (seed) => {
        const phrase = encodeMnemonic(seed);
        expect(phrase.split(" ")).toHaveLength(MNEMONIC_WORD_COUNT);
        expect(decodeMnemonic(phrase)).toEqual(seed);
      }),
      { numRuns: 300 },
    );
  });
  it("round-trips the extreme seeds", () => {
    for (const seed of ["00".repeat(16), "ff".repeat(16)]) expect(decodeMnemonicHex(encodeMnemonic(seed))).toBe(seed);
  });
});

describe("mnemonic errors", () => {
  it("rejects a wrong word count", () => {
    expect(codeOf(() => decodeMnemonic(VECTOR_MNEMONIC.split(" ").slice(0, 12).join(" ")))).toBe("SESSION_INVALID_MNEMONIC");
    expect(codeOf(() => decodeMnemonic(""))).toBe("SESSION_INVALID_MNEMONIC");
    expect(codeOf(() => decodeMnemonic(`${VECTOR_MNEMONIC} kiwi`))).toBe("SESSION_INVALID_MNEMONIC");
  });
  it("rejects an unknown word and names its position, not the word", () => {
    const words = VECTOR_MNEMONIC.split(" ");
    words[4] = "qqqzzz";
    try {
      decodeMnemonic(words.join(" "));
      expect.unreachable();
    } catch (err) {
      expect(isSessionError(err, "SESSION_INVALID_MNEMONIC")).toBe(true);
      expect((err as Error).message).toContain("word 5");
      expect((err as Error).message).not.toContain("qqqzzz");
    }
  });
  it("rejects a word shorter than the prefix", () => {
    expect(codeOf(() => decodeMnemonic(VECTOR_MNEMONIC.replace("memoir", "me")))).toBe("SESSION_INVALID_MNEMONIC");
  });
  it("rejects a bad checksum word", () => {
    const words = VECTOR_MNEMONIC.split(" ");
    words[12] = "puffin";
    expect(codeOf(() => decodeMnemonic(words.join(" ")))).toBe("SESSION_INVALID_MNEMONIC");
  });
  it("rejects swapped data words (checksum or group check catches them)", () => {
    const words = VECTOR_MNEMONIC.split(" ");
    [words[0], words[1]] = [words[1] as string, words[0] as string];
    expect(codeOf(() => decodeMnemonic(words.join(" ")))).toBe("SESSION_INVALID_MNEMONIC");
  });
  it("rejects a seed that is not 16 bytes", () => {
    expect(codeOf(() => encodeMnemonic("abcd"))).toBe("SESSION_INVALID_SEED");
    expect(codeOf(() => encodeMnemonic("zz".repeat(16)))).toBe("SESSION_INVALID_SEED");
    expect(codeOf(() => encodeMnemonic(new Uint8Array(32)))).toBe("SESSION_INVALID_SEED");
  });
});
