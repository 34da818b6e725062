// Chunk frames and reassembly (@session-bot/chunker) under mutation: frames whose CRC is fixed up
// after the mutation (so the header parser, not the checksum, meets the bad bytes), and adversarial
// fragment sequences (shuffled, duplicated, dropped, interleaved, with lying headers) fed to a
// Reassembler with small limits. Only ChunkError may come out; limits hold at every step; whatever
// completes is exactly one of the payloads that was sent.
import { crc32 } from "node:zlib";
import fc from "fast-check";
import { CHUNK_ERROR_CODES, JsonReassembler, Reassembler, decodeFragment, encodeFragment, split, type Fragment } from "@session-bot/chunker";
import { beforeAll, describe, expect, it } from "vitest";
import { startWatchdog, bounded, expectTyped, fuzzParams, heapUsed, HEAP_GROWTH_LIMIT, mutatedBytes } from "../src/index.js";

const CHUNK = { name: "ChunkError", codes: CHUNK_ERROR_CODES };

/** Rewrites the trailing CRC-32 so a mutated frame passes the checksum. */
function fixCrc(frame: Uint8Array): Uint8Array {
  if (frame.length < 5) return frame;
  const out = Uint8Array.from(frame);
  new DataView(out.buffer).setUint32(out.length - 4, crc32(out.subarray(0, out.length - 4)));
  return out;
}

const id = fc.oneof(fc.constantFrom("a", "msg-1", "é", "\ufeff", "x".repeat(64)), fc.string({ minLength: 1, maxLength: 20 }));
const payload = fc.uint8Array({ maxLength: 600 });
const fragments = fc
  .tuple(payload, id, fc.integer({ min: 80, max: 400 }))
  .map(([p, i, max]) => {
    try {
      return { payload: p, fragments: split(p, { maxFragmentBytes: max + new TextEncoder().encode(i).length, id: i }) };
    } catch {
      return { payload: p, fragments: split(p, { maxFragmentBytes: 400, id: "fallback" }) };
    }
  });
const validFrame = fragments.chain(({ fragments: fs }) => fc.constantFrom(...fs)).map((f) => encodeFragment(f));

let heapAtStart = 0;
beforeAll(async () => {
  await startWatchdog();
  heapAtStart = heapUsed();
});

describe("frames", () => {
  it("decodeFragment: random bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), (b, crc) => {
        const frame = crc ? fixCrc(b) : b;
        bounded("decodeFragment", () => expectTyped(CHUNK, () => decodeFragment(frame)));
      }),
      fuzzParams(1_000),
    );
  });

  it("decodeFragment: mutations of valid frames (CRC fixed up) decode to a consistent fragment or a ChunkError", () => {
    fc.assert(
      fc.property(mutatedBytes(validFrame), (b) => {
        const frame = fixCrc(b);
        const out = bounded("decodeFragment", () => expectTyped(CHUNK, () => decodeFragment(frame)));
        if (out.ok) {
          // What decodes re-encodes to the same bytes.
          expect(Buffer.from(encodeFragment(out.value)).equals(Buffer.from(frame))).toBe(true);
        }
      }),
      fuzzParams(1_500),
    );
  });
});

/** One step of an adversarial sequence. */
type Step =
  | { kind: "frame"; msg: number; index: number }
  | { kind: "lie"; msg: number; index: number; field: "index" | "count" | "fragmentSize" | "totalBytes" | "body" | "digest" | "id"; value: number }
  | { kind: "raw"; bytes: Uint8Array }
  | { kind: "tick"; ms: number }
  | { kind: "drop"; msg: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant("frame" as const), msg: fc.nat(3), index: fc.nat() }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("lie" as const),
      msg: fc.nat(3),
      index: fc.nat(),
      field: fc.constantFrom("index" as const, "count" as const, "fragmentSize" as const, "totalBytes" as const, "body" as const, "digest" as const, "id" as const),
      value: fc.oneof(fc.integer({ min: -2, max: 2_000 }), fc.constantFrom(0xffff_ffff, 2 ** 53 - 1, 2 ** 40)),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("raw" as const), bytes: fc.uint8Array({ maxLength: 120 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("tick" as const), ms: fc.integer({ min: 0, max: 2_000 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("drop" as const), msg: fc.nat(3) }) },
);

function lie(f: Fragment, field: Extract<Step, { kind: "lie" }>["field"], value: number): Fragment {
  switch (field) {
    case "body":
      return { ...f, body: new Uint8Array(Math.max(0, Math.min(value, 5_000))) };
    case "digest":
      return { ...f, digest: new Uint8Array(32).fill(value & 0xff) };
    case "id":
      return { ...f, id: value % 2 === 0 ? "msg-shared" : "x".repeat(Math.max(0, value % 80)) };
    default:
      return { ...f, [field]: value };
  }
}

const LIMITS = { maxPayloadBytes: 700, maxFragments: 12, maxPending: 3, timeoutMs: 1_000, maxBufferedBytes: 1_200, maxRemembered: 8 };

describe("reassembly of adversarial fragment sequences", () => {
  it("limits hold at every step and only sent payloads come out", () => {
    const messages = fc.array(fragments, { minLength: 1, maxLength: 4 });
    fc.assert(
      fc.property(messages, fc.array(step, { maxLength: 40 }), (msgs, steps) => {
        let now = 0;
        const r = new Reassembler({ ...LIMITS, now: () => now });
        const sent = new Set(msgs.map((m) => Buffer.from(m.payload).toString("hex")));
        // Every fragment of every message, in order, after the adversarial steps: a mix.
        const tail: Step[] = msgs.flatMap((m, msg) => m.fragments.map((_, index) => ({ kind: "frame" as const, msg, index })));
        for (const s of [...steps, ...tail]) {
          let out: ReturnType<typeof expectTyped<Uint8Array | undefined>> | undefined;
          if (s.kind === "tick") {
            now += s.ms;
            bounded("sweep", () => expectTyped(CHUNK, () => r.sweep()));
          } else if (s.kind === "drop") {
            const m = msgs[s.msg % msgs.length]!;
            bounded("discard", () => expectTyped(CHUNK, () => r.discard(m.fragments[0]!.id)));
          } else if (s.kind === "raw") {
            out = bounded("pushFrame", () => expectTyped(CHUNK, () => r.pushFrame(fixCrc(s.bytes))));
          } else {
            const m = msgs[s.msg % msgs.length]!;
            const f = m.fragments[s.index % m.fragments.length]!;
            const g = s.kind === "lie" ? lie(f, s.field, s.value) : f;
            out = bounded("push", () => expectTyped(CHUNK, () => (s.kind === "lie" ? r.push(g) : r.pushFrame(encodeFragment(g)))));
          }
          expect(r.pending).toBeLessThanOrEqual(LIMITS.maxPending);
          expect(r.bufferedBytes).toBeLessThanOrEqual(LIMITS.maxBufferedBytes);
          expect(r.remembered).toBeLessThanOrEqual(LIMITS.maxRemembered);
          if (out?.ok && out.value !== undefined) expect(sent.has(Buffer.from(out.value).toString("hex"))).toBe(true);
        }
      }),
      fuzzParams(600),
    );
  });

  it("JsonReassembler: mutated JSON payloads complete as JSON or fail with CHUNK_BAD_JSON", () => {
    const jsonPayload = fc.jsonValue({ maxDepth: 3 }).map((v) => new TextEncoder().encode(JSON.stringify(v)));
    fc.assert(
      fc.property(mutatedBytes(jsonPayload), (bytes) => {
        const r = new JsonReassembler({ ...LIMITS, maxFragments: 10_000, maxPayloadBytes: 1_000_000, maxBufferedBytes: 1_000_000 });
        const fs = split(bytes, { maxFragmentBytes: 120 });
        let last: ReturnType<typeof expectTyped<unknown>> | undefined;
        for (const f of fs) last = bounded("json push", () => expectTyped(CHUNK, () => r.push(f)));
        expect(last).toBeDefined();
        if (last!.ok) expect(last!.value).toEqual(JSON.parse(new TextDecoder().decode(bytes)));
        else expect(last!.code).toBe("CHUNK_BAD_JSON");
      }),
      fuzzParams(400),
    );
  });

  it("heap growth over this suite stays bounded", () => {
    expect(heapUsed() - heapAtStart).toBeLessThan(HEAP_GROWTH_LIMIT);
  });
});
