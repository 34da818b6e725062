// Writes test-vectors/frames.json: frames for a few fixed payloads and malformed frames with the
// error code a decoder must give. Deterministic, so another implementation (Python) can test
// byte-compatibility against it. `--check` fails when the file on disk differs.
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { crc32 } from "node:zlib";
import { encodeFragment, sha256, split } from "../src/index.js";

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
const pattern = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 7 + 3) & 0xff);
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

interface ValidCase {
  name: string;
  id: string;
  max_fragment_bytes: number;
  payload_hex: string;
  sha256_hex: string;
  fragment_size: number;
  frames_hex: string[];
}

const cases: Array<{ name: string; id: string; max: number; payload: Uint8Array }> = [
  { name: "empty payload", id: "empty", max: 128, payload: new Uint8Array(0) },
  { name: "one fragment", id: "00112233445566778899aabbccddeeff", max: 1024, payload: utf8("hello, chunker") },
  { name: "three fragments, short last", id: "m1", max: 100, payload: pattern(100) },
  { name: "exact multiple of fragment size", id: "m2", max: 68, payload: pattern(30) },
  { name: "non-ASCII id", id: "pièce-✓", max: 90, payload: pattern(70) },
  { name: "max-length id (64 bytes)", id: "x".repeat(64), max: 200, payload: pattern(200) },
];

const valid: ValidCase[] = cases.map((c) => {
  const frags = split(c.payload, { maxFragmentBytes: c.max, id: c.id });
  return {
    name: c.name,
    id: c.id,
    max_fragment_bytes: c.max,
    payload_hex: hex(c.payload),
    sha256_hex: hex(sha256(c.payload)),
    fragment_size: frags[0]!.fragmentSize,
    frames_hex: frags.map((f) => hex(encodeFragment(f))),
  };
});

/** Re-seals a hand-edited frame with a correct CRC-32, so only the edited field is wrong. */
function reseal(frame: Uint8Array): Uint8Array {
  const out = Uint8Array.from(frame);
  new DataView(out.buffer).setUint32(out.length - 4, crc32(out.subarray(0, out.length - 4)));
  return out;
}
const base = encodeFragment(split(pattern(100), { maxFragmentBytes: 100, id: "m1" })[0]!); // id "m1": L = 2
const L = 2;
const edit = (f: (b: Uint8Array, v: DataView) => void, sealed = true): Uint8Array => {
  const b = Uint8Array.from(base);
  f(b, new DataView(b.buffer));
  return sealed ? reseal(b) : b;
};

const invalid = [
  { name: "empty frame", frame: new Uint8Array(0), error: "CHUNK_MALFORMED" },
  { name: "version 2", frame: edit((b) => (b[0] = 2)), error: "CHUNK_BAD_VERSION" },
  { name: "version 0, unsealed", frame: edit((b) => (b[0] = 0), false), error: "CHUNK_BAD_VERSION" },
  { name: "truncated to 10 bytes", frame: base.subarray(0, 10), error: "CHUNK_MALFORMED" },
  { name: "one body byte flipped", frame: edit((b) => (b[60] = b[60]! ^ 0x01), false), error: "CHUNK_CORRUPT" },
  { name: "crc byte flipped", frame: edit((b) => (b[b.length - 1] = b[b.length - 1]! ^ 0x80), false), error: "CHUNK_CORRUPT" },
  { name: "index byte flipped", frame: edit((b) => (b[2 + L + 3] = b[2 + L + 3]! ^ 0x04), false), error: "CHUNK_CORRUPT" },
  { name: "last byte removed", frame: base.subarray(0, base.length - 1), error: "CHUNK_CORRUPT" },
  { name: "id length 0", frame: edit((b) => (b[1] = 0)), error: "CHUNK_MALFORMED" },
  { name: "id length 65", frame: edit((b) => (b[1] = 65)), error: "CHUNK_MALFORMED" },
  { name: "id not UTF-8", frame: edit((b) => (b[2] = 0xff)), error: "CHUNK_MALFORMED" },
  { name: "index equals count", frame: edit((b, v) => v.setUint32(2 + L, 3)), error: "CHUNK_MALFORMED" },
  { name: "count disagrees with total/fragment size", frame: edit((b, v) => v.setUint32(6 + L, 4)), error: "CHUNK_MALFORMED" },
  { name: "fragment size 0", frame: edit((b, v) => v.setUint32(10 + L, 0)), error: "CHUNK_MALFORMED" },
  { name: "total above 2^53-1", frame: edit((b, v) => v.setBigUint64(14 + L, 1n << 60n)), error: "CHUNK_MALFORMED" },
  { name: "body one byte short (resealed)", frame: reseal(Uint8Array.from([...base.subarray(0, base.length - 5), 0, 0, 0, 0])), error: "CHUNK_MALFORMED" },
].map((c) => ({ name: c.name, frame_hex: hex(c.frame), error: c.error }));

const doc = {
  description:
    "Frames of @session-bot/chunker, frame version 1 (layout in packages/chunker/README.md). valid: split(payload, {maxFragmentBytes, id}) must give exactly frames_hex; decoding and reassembling them (in any order) must give payload_hex. invalid: decoding frame_hex must fail with error.",
  frame_version: 1,
  crc: "CRC-32 (ISO-HDLC / zlib.crc32 / Python zlib.crc32) of every byte before it, big-endian",
  valid,
  invalid,
};

const file = join(dirname(fileURLToPath(import.meta.url)), "..", "test-vectors", "frames.json");
const text = JSON.stringify(doc, null, 2) + "\n";
if (process.argv.includes("--check")) {
  let old = "";
  try {
    old = readFileSync(file, "utf8");
  } catch {
    // missing counts as different
  }
  if (old !== text) {
    console.error(`${file} is out of date: run pnpm --filter @session-bot/chunker vectors`);
    process.exit(1);
  }
  console.log(`${file} is up to date`);
} else {
  writeFileSync(file, text);
  console.log(`wrote ${file}: ${valid.length} valid cases, ${invalid.length} invalid frames`);
}
