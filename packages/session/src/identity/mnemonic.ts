/**
 * Session recovery passwords ("mnemonics"): 16 bytes of seed <-> 13 English words
 * (12 data words and one checksum word). Only the first 3 letters of a word matter.
 * Algorithm: docs/session-protocol.md section 1.1 (the Electrum/Monero scheme).
 */
import { crc32 } from "node:zlib";
import { SessionError } from "../errors.js";
import { fromHexStrict, toHex } from "../encoding.js";
import { ENGLISH_WORDS } from "./english-words.js";

/** Number of words in a Session recovery password. */
export const MNEMONIC_WORD_COUNT = 13;
/** Letters of a word that identify it. */
export const MNEMONIC_PREFIX_LENGTH = 3;

const N = ENGLISH_WORDS.length; // 1626
const prefixIndex: ReadonlyMap<string, number> = new Map(
  ENGLISH_WORDS.map((w, i) => [w.slice(0, MNEMONIC_PREFIX_LENGTH), i] as const),
);

function invalid(message: string): SessionError {
  return new SessionError("SESSION_INVALID_MNEMONIC", message);
}

function checksumIndex(words: readonly string[]): number {
  const prefixes = words.map((w) => w.slice(0, MNEMONIC_PREFIX_LENGTH)).join("");
  return crc32(Buffer.from(prefixes, "utf8")) % words.length;
}

/**
 * Encodes a 16-byte seed (bytes or 32 hex characters) as a 13-word recovery password.
 * @throws SessionError `SESSION_INVALID_SEED` when the seed is not 16 bytes.
 */
export function encodeMnemonic(seed: Uint8Array | string): string {
  const bytes = typeof seed === "string" ? fromHexStrict(seed) : seed;
  if (bytes === null || bytes.length !== 16) {
    throw new SessionError("SESSION_INVALID_SEED", "a mnemonic seed must be 16 bytes (32 hex characters)");
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const words: string[] = [];
  for (let offset = 0; offset < bytes.length; offset += 4) {
    const x = view.getUint32(offset, true);
    const w1 = x % N;
    const w2 = (Math.floor(x / N) + w1) % N;
    const w3 = (Math.floor(x / N / N) + w2) % N;
    for (const w of [w1, w2, w3]) words.push(ENGLISH_WORDS[w] as string);
  }
  words.push(words[checksumIndex(words)] as string);
  return words.join(" ");
}

/** Trims, lowercases and splits a user-typed recovery password into words. */
export function normaliseMnemonic(phrase: string): string[] {
  const trimmed = phrase.trim().toLowerCase();
  return trimmed === "" ? [] : trimmed.split(/\s+/);
}

/**
 * Decodes a 13-word recovery password to its 16-byte seed. Input is normalised first
 * (case, surrounding and repeated white space).
 * @throws SessionError `SESSION_INVALID_MNEMONIC` naming the problem: word count, the position
 * of an unknown word, a word triple that does not decode, or a checksum mismatch. The message
 * never repeats the words themselves (they are a secret).
 */
export function decodeMnemonic(phrase: string): Uint8Array {
  const words = normaliseMnemonic(phrase);
  if (words.length !== MNEMONIC_WORD_COUNT) {
    throw invalid(`a recovery password has ${MNEMONIC_WORD_COUNT} words, got ${words.length}`);
  }
  const indices = words.map((word, position) => {
    const index = word.length < MNEMONIC_PREFIX_LENGTH ? undefined : prefixIndex.get(word.slice(0, MNEMONIC_PREFIX_LENGTH));
    if (index === undefined) throw invalid(`word ${position + 1} is not in the English word list`);
    return index;
  });
  const out = new Uint8Array(16);
  const view = new DataView(out.buffer);
  for (let group = 0; group < 4; group++) {
    const w1 = indices[group * 3] as number;
    const w2 = indices[group * 3 + 1] as number;
    const w3 = indices[group * 3 + 2] as number;
    const x = w1 + N * ((N - w1 + w2) % N) + N * N * ((N - w2 + w3) % N);
    if (x % N !== w1 || x > 0xffffffff) throw invalid(`words ${group * 3 + 1}-${group * 3 + 3} do not form a valid group`);
    view.setUint32(group * 4, x, true);
  }
  const dataWords = words.slice(0, MNEMONIC_WORD_COUNT - 1);
  const expected = dataWords[checksumIndex(dataWords)] as string;
  const given = words[MNEMONIC_WORD_COUNT - 1] as string;
  if (expected.slice(0, MNEMONIC_PREFIX_LENGTH) !== given.slice(0, MNEMONIC_PREFIX_LENGTH)) {
    throw invalid("the checksum word (13th) does not match: a word is mistyped or missing");
  }
  return out;
}

/** {@link decodeMnemonic} as 32 lowercase hex characters. */
export function decodeMnemonicHex(phrase: string): string {
  return toHex(decodeMnemonic(phrase));
}
