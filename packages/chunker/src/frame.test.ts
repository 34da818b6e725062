import { readFileSync } from "node:fs";
import { crc32 } from "node:zlib";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ChunkError } from "./errors.js";
import { decodeFragment, encodeFragment, frameOverhead, MAX_ID_BYTES, type Fragment } from "./frame.js";
import { Reassembler } from "./reassembler.js";
import { split } from "./split.js";

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ChunkError);
    return (e as ChunkError).code;
  }
  return undefined;
}

const pattern = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 31 + 7) & 0xff);

describe("encodeFragment / decodeFragment", () => {
  it("round-trips every fragment, with the header fields intact", () => {
    const payload = pattern(1000);
    const frags = split(payload, { maxFragmentBytes: 300, id: "abc" });
    expect(frags).toHaveLength(Math.ceil(1000 / (300 - frameOverhead(3))));
    for (const f of frags) {
      const frame = encodeFragment(f);
      expect(frame.length).toBeLessThanOrEqual(300);
      const d = decodeFragment(frame);
      expect(d.id).toBe("abc");
      expect(d.index).toBe(f.index);
      expect(d.count).toBe(f.count);
      expect(d.fragmentSize).toBe(f.fragmentSize);
      expect(d.totalBytes).toBe(1000);
      expect(Buffer.from(d.digest).equals(Buffer.from(f.digest))).toBe(true);
      expect(Buffer.from(d.body).equals(Buffer.from(f.body))).toBe(true);
    }
  });

  it("lays the header out as documented (big-endian, id after its length)", () => {
    const [f] = split(new Uint8Array([9, 8, 7]), { maxFragmentBytes: 100, id: "ab" });
    const b = encodeFragment(f!);
    expect([...b.subarray(0, 4)]).toEqual([1, 2, 0x61, 0x62]);
    const v = new DataView(b.buffer, b.byteOffset);
    expect(v.getUint32(4)).toBe(0); // index
    expect(v.getUint32(8)).toBe(1); // count
    expect(v.getUint32(12)).toBe(100 - frameOverhead(2)); // fragment size
    expect(v.getBigUint64(16)).toBe(3n); // total
    expect([...b.subarray(56, 59)]).toEqual([9, 8, 7]); // body after the 32-byte digest
    expect(v.getUint32(59)).toBe(crc32(b.subarray(0, 59)));
    expect(b.length).toBe(63);
  });

  it("detects EVERY single-byte corruption of small frames, at every position and value", () => {
    const frames = [
      ...split(pattern(40), { maxFragmentBytes: 80, id: "i" }).map(encodeFragment),
      encodeFragment(split(new Uint8Array(0), { maxFragmentBytes: 80, id: "e" })[0]!),
      encodeFragment(split(pattern(10), { maxFragmentBytes: 200 })[0]!),
    ];
    let checked = 0;
    for (const frame of frames) {
      for (let pos = 0; pos < frame.length; pos++) {
        for (let x = 1; x < 256; x++) {
          const bad = Uint8Array.from(frame);
          bad[pos] = bad[pos]! ^ x;
          const code = codeOf(() => decodeFragment(bad));
          if (code === undefined) throw new Error(`corruption at byte ${pos} (xor ${x}) not detected`);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(50_000);
  });

  it("detects random bit flips (1 to 3 bits) anywhere in larger frames", () => {
    const frames = split(pattern(20_000), { maxFragmentBytes: 4096 }).map(encodeFragment);
    fc.assert(
      fc.property(fc.nat(frames.length - 1), fc.uniqueArray(fc.nat(4096 * 8 - 1), { minLength: 1, maxLength: 3 }), (fi, bits) => {
        const frame = frames[fi]!;
        const bad = Uint8Array.from(frame);
        for (const bit of bits) {
          const at = bit % (frame.length * 8);
          bad[at >> 3] = bad[at >> 3]! ^ (1 << (at & 7));
        }
        if (Buffer.from(bad).equals(Buffer.from(frame))) return; // two flips cancelled out
        expect(codeOf(() => decodeFragment(bad))).toMatch(/^CHUNK_(CORRUPT|BAD_VERSION|MALFORMED)$/);
      }),
      { numRuns: 2000 },
    );
  });

  it("rejects truncated and extended frames", () => {
    const frame = encodeFragment(split(pattern(50), { maxFragmentBytes: 200, id: "t" })[0]!);
    for (let n = 0; n < frame.length; n++) expect(codeOf(() => decodeFragment(frame.subarray(0, n)))).toBeDefined();
    const longer = new Uint8Array(frame.length + 1);
    longer.set(frame);
    expect(codeOf(() => decodeFragment(longer))).toBeDefined();
  });

  it("refuses to encode inconsistent fragments or bad ids", () => {
    const [f] = split(pattern(10), { maxFragmentBytes: 200, id: "x" });
    const bad: Fragment[] = [
      { ...f!, index: 1 },
      { ...f!, count: 2 },
      { ...f!, totalBytes: 11 },
      { ...f!, body: pattern(9) },
      { ...f!, digest: new Uint8Array(31) },
      { ...f!, id: "" },
      { ...f!, id: "y".repeat(MAX_ID_BYTES + 1) },
      { ...f!, id: "\ud800" },
      { ...f!, fragmentSize: 0 },
    ];
    for (const b of bad) expect(codeOf(() => encodeFragment(b))).toBe("CHUNK_INVALID_ARGUMENT");
  });

  it("keeps ids that are valid UTF-8, including a leading BOM", () => {
    for (const id of ["\ufeffbom", "é", "✓".repeat(21), "🙂"]) {
      const [f] = split(pattern(3), { maxFragmentBytes: 200, id });
      expect(decodeFragment(encodeFragment(f!)).id).toBe(id);
    }
  });
});

describe("shared test vectors (test-vectors/frames.json)", () => {
  const doc = JSON.parse(readFileSync(new URL("../test-vectors/frames.json", import.meta.url), "utf8")) as {
    valid: Array<{ id: string; max_fragment_bytes: number; payload_hex: string; sha256_hex: string; fragment_size: number; frames_hex: string[] }>;
    invalid: Array<{ name: string; frame_hex: string; error: string }>;
  };

  it("split + encode gives exactly the recorded frames, and they reassemble in reverse order", () => {
    expect(doc.valid.length).toBeGreaterThanOrEqual(5);
    for (const v of doc.valid) {
      const payload = Buffer.from(v.payload_hex, "hex");
      const frames = split(payload, { maxFragmentBytes: v.max_fragment_bytes, id: v.id }).map((f) => Buffer.from(encodeFragment(f)).toString("hex"));
      expect(frames).toEqual(v.frames_hex);
      const r = new Reassembler({ maxPayloadBytes: 1 << 20, maxFragments: 100, maxPending: 1, timeoutMs: 1000 });
      let out: Uint8Array | undefined;
      for (const h of [...v.frames_hex].reverse()) {
        const f = decodeFragment(Buffer.from(h, "hex"));
        expect(f.fragmentSize).toBe(v.fragment_size);
        expect(Buffer.from(f.digest).toString("hex")).toBe(v.sha256_hex);
        out = r.push(f) ?? out;
      }
      expect(Buffer.from(out!).toString("hex")).toBe(v.payload_hex);
    }
  });

  it("every invalid frame fails with the recorded code", () => {
    expect(doc.invalid.length).toBeGreaterThanOrEqual(10);
    for (const v of doc.invalid) {
      expect({ name: v.name, code: codeOf(() => decodeFragment(Buffer.from(v.frame_hex, "hex"))) }).toEqual({ name: v.name, code: v.error });
    }
  });
});
