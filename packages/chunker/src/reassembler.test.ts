import { randomBytes } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CHUNK_ERROR_CODES, ChunkError, isChunkError } from "./errors.js";
import { decodeFragment, encodeFragment, type Fragment } from "./frame.js";
import { JsonReassembler, Reassembler, type ReassemblerOptions } from "./reassembler.js";
import { sha256, split, splitJson } from "./split.js";

const MiB = 1024 * 1024;

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ChunkError);
    return (e as ChunkError).code;
  }
  return undefined;
}

function make(over: Partial<ReassemblerOptions> = {}): { r: Reassembler; clock: { t: number } } {
  const clock = { t: 1_000_000 };
  const r = new Reassembler({ maxPayloadBytes: 40 * MiB, maxFragments: 1 << 20, maxPending: 8, timeoutMs: 5_000, now: () => clock.t, ...over });
  return { r, clock };
}

/** A fragment that is self-consistent (it encodes and decodes) but claims what we like. */
function claim(id: string, count: number, fragmentSize: number, totalBytes: number, index = 0): Fragment {
  const bodyLen = index < count - 1 ? fragmentSize : totalBytes - (count - 1) * fragmentSize;
  return { id, index, count, fragmentSize, totalBytes, digest: new Uint8Array(32), body: new Uint8Array(bodyLen) };
}

/** Feeds frames through encode → decode → push; returns every payload given back. */
function feed(r: Reassembler, frags: Fragment[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const f of frags) {
    const p = r.push(decodeFragment(encodeFragment(f)));
    if (p !== undefined) out.push(p);
  }
  return out;
}

describe("split + Reassembler, property-based", () => {
  const arbCase = (maxLen: number) =>
    fc.record({
      len: fc.nat(maxLen),
      seed: fc.nat(),
      frame: fc.integer({ min: 91, max: 70_000 }),
      order: fc.array(fc.nat(), { maxLength: 64 }),
      dups: fc.array(fc.nat(), { maxLength: 16 }),
    });

  function roundTrip(c: { len: number; seed: number; frame: number; order: number[]; dups: number[] }): void {
    const payload = randomBytes(c.len);
    const frags = split(payload, { maxFragmentBytes: c.frame });
    // shuffle with the generated keys, then append duplicates picked from the list
    const shuffled = frags.map((f, i) => ({ f, k: c.order[i % Math.max(1, c.order.length)]! ^ (i * 2654435761) })).sort((a, b) => a.k - b.k).map((x) => x.f);
    const withDups = [...shuffled];
    for (const d of c.dups) withDups.splice(d % (withDups.length + 1), 0, frags[d % frags.length]!);
    const { r } = make();
    const out = feed(r, withDups);
    expect(out).toHaveLength(1);
    expect(Buffer.from(out[0]!).equals(payload)).toBe(true);
    expect(r.pending).toBe(0);
    expect(r.bufferedBytes).toBe(0);
  }

  it("small payloads, random fragment sizes, shuffled and duplicated: identical payload, once", () => {
    fc.assert(fc.property(arbCase(200_000), roundTrip), { numRuns: 150 });
  });

  it("large payloads up to 32 MiB (a few runs)", () => {
    fc.assert(
      fc.property(
        fc.record({
          len: fc.integer({ min: 1 * MiB, max: 32 * MiB }),
          seed: fc.nat(),
          frame: fc.integer({ min: 16 * 1024, max: 1 * MiB }),
          order: fc.array(fc.nat(), { maxLength: 64 }),
          dups: fc.array(fc.nat(), { maxLength: 8 }),
        }),
        roundTrip,
      ),
      { numRuns: 4, examples: [[{ len: 32 * MiB, seed: 1, frame: 64 * 1024, order: [5, 3, 9], dups: [1, 7] }]] },
    );
  }, 120_000);

  it("tiny fragments (1-byte bodies) still reassemble", () => {
    const payload = randomBytes(300);
    const frags = split(payload, { maxFragmentBytes: 91 });
    expect(frags[0]!.fragmentSize).toBe(1);
    const { r } = make();
    expect(Buffer.from(feed(r, frags.reverse())[0]!).equals(payload)).toBe(true);
  });

  it("an empty payload is one fragment and comes back empty", () => {
    const { r } = make();
    const frags = split(new Uint8Array(0), { maxFragmentBytes: 100 });
    expect(frags).toHaveLength(1);
    expect(feed(r, frags)[0]!.length).toBe(0);
  });
});

describe("duplicates", () => {
  it("ignores a duplicate arriving after completion (within timeoutMs): each payload is returned once", () => {
    const { r, clock } = make();
    const frags = split(randomBytes(5000), { maxFragmentBytes: 1000 });
    expect(feed(r, frags)).toHaveLength(1);
    clock.t += 4_000;
    expect(feed(r, [frags[2]!, frags[0]!, ...frags])).toHaveLength(0);
    expect(r.pending).toBe(0);
    expect(r.bufferedBytes).toBe(0);
  });

  it("the completed-id memory is bounded by maxRemembered", () => {
    const { r } = make({ maxRemembered: 10 });
    for (let i = 0; i < 100; i++) feed(r, split(randomBytes(10), { maxFragmentBytes: 200, id: `m${i}` }));
    expect(r.remembered).toBe(10);
  });
});

describe("header disagreement and digest", () => {
  const payload = randomBytes(3000);
  const frags = split(payload, { maxFragmentBytes: 1000, id: "same" });

  it.each([
    ["count", (f: Fragment): Fragment => claim("same", f.count + 1, Math.ceil(f.totalBytes / (f.count + 1)), f.totalBytes, 1)],
    ["total", (f: Fragment): Fragment => claim("same", f.count, f.fragmentSize, f.totalBytes - 1, 1)],
    ["digest", (f: Fragment): Fragment => ({ ...frags[1]!, digest: sha256(new Uint8Array([1])), index: 1, body: frags[1]!.body, count: f.count })],
  ])("a fragment whose %s disagrees throws CHUNK_HEADER_MISMATCH and frees the message", (_name, mutate) => {
    const { r } = make();
    expect(r.push(frags[0]!)).toBeUndefined();
    expect(r.pending).toBe(1);
    expect(codeOf(() => r.push(mutate(frags[0]!)))).toBe("CHUNK_HEADER_MISMATCH");
    expect(r.pending).toBe(0);
    expect(r.bufferedBytes).toBe(0);
    // later fragments of the failed message keep failing, they don't start it again
    expect(codeOf(() => r.push(frags[2]!))).toBe("CHUNK_HEADER_MISMATCH");
    expect(r.pending).toBe(0);
  });

  it("a body that does not match the digest throws CHUNK_DIGEST_MISMATCH and frees the message", () => {
    const { r } = make();
    const tampered = { ...frags[1]!, body: Uint8Array.from(frags[1]!.body, (b, i) => (i === 5 ? b ^ 1 : b)) };
    const rest = frags.slice(2);
    expect(rest.length).toBeGreaterThanOrEqual(1);
    r.push(frags[0]!);
    r.push(tampered);
    for (const f of rest.slice(0, -1)) r.push(f);
    expect(codeOf(() => r.push(rest.at(-1)!))).toBe("CHUNK_DIGEST_MISMATCH");
    expect(r.pending).toBe(0);
    expect(r.bufferedBytes).toBe(0);
  });

  it("a malformed fragment object throws CHUNK_MALFORMED", () => {
    const { r } = make();
    expect(codeOf(() => r.push({ ...frags[0]!, index: 7 }))).toBe("CHUNK_MALFORMED");
    expect(codeOf(() => r.push({ ...frags[0]!, body: new Uint8Array(3) }))).toBe("CHUNK_MALFORMED");
    expect(codeOf(() => r.push({ ...frags[0]!, id: "x".repeat(65) }))).toBe("CHUNK_MALFORMED");
    expect(codeOf(() => r.push({ ...frags[0]!, id: "" }))).toBe("CHUNK_MALFORMED");
    expect(r.pending).toBe(0);
  });
});

describe("expiry", () => {
  it("a message that does not complete within timeoutMs throws CHUNK_EXPIRED on its next fragment, freed at once", () => {
    const { r, clock } = make({ timeoutMs: 1_000 });
    const frags = split(randomBytes(3000), { maxFragmentBytes: 1000 });
    r.push(frags[0]!);
    expect(r.bufferedBytes).toBe(3000);
    clock.t += 1_000;
    expect(codeOf(() => r.push(frags[1]!))).toBe("CHUNK_EXPIRED");
    expect(r.pending).toBe(0);
    expect(r.bufferedBytes).toBe(0);
  });

  it("sweep(now) drops expired messages (and only those) and reports them", () => {
    const { r, clock } = make({ timeoutMs: 1_000 });
    const a = split(randomBytes(3000), { maxFragmentBytes: 1000, id: "a" });
    const b = split(randomBytes(3000), { maxFragmentBytes: 1000, id: "b" });
    r.push(a[0]!);
    clock.t += 600;
    r.push(b[0]!);
    expect(r.sweep(clock.t + 399)).toEqual([]);
    const expired = r.sweep(clock.t + 400);
    expect(expired.map((e) => [e.code, e.details.id])).toEqual([["CHUNK_EXPIRED", "a"]]);
    expect(r.pending).toBe(1);
    expect(r.bufferedBytes).toBe(3000);
    // b still completes
    clock.t += 300;
    expect(feed(r, b.slice(1))).toHaveLength(1);
  });

  it("a completed id is forgotten after timeoutMs (memory of completions is bounded in time too)", () => {
    const { r, clock } = make({ timeoutMs: 1_000 });
    feed(r, split(randomBytes(10), { maxFragmentBytes: 200, id: "x" }));
    expect(r.remembered).toBe(1);
    clock.t += 1_001;
    r.sweep();
    expect(r.remembered).toBe(0);
  });
});

describe("abuse: memory stays bounded whatever a peer sends", () => {
  it("a fragment claiming 2^31 fragments is refused before allocating", () => {
    const { r } = make({ maxFragments: 10_000 });
    const f = decodeFragment(encodeFragment(claim("big", 2 ** 31, 1, 2 ** 31)));
    expect(f.count).toBe(2 ** 31);
    expect(codeOf(() => r.push(f))).toBe("CHUNK_TOO_MANY_FRAGMENTS");
    expect(r.pending).toBe(0);
    expect(r.bufferedBytes).toBe(0);
  });

  it("a fragment claiming a 10 GB payload is refused before allocating", () => {
    const { r } = make({ maxPayloadBytes: 64 * MiB });
    const total = 10 * 1000 ** 3;
    const f = decodeFragment(encodeFragment(claim("huge", Math.ceil(total / 1_000_000), 1_000_000, total, 3)));
    expect(f.totalBytes).toBe(total);
    const heapBefore = process.memoryUsage().arrayBuffers;
    expect(codeOf(() => r.push(f))).toBe("CHUNK_TOO_LARGE");
    expect(r.bufferedBytes).toBe(0);
    expect(process.memoryUsage().arrayBuffers - heapBefore).toBeLessThan(64 * MiB);
  });

  it("100,000 distinct pending ids: the rest are refused with CHUNK_TOO_MANY_PENDING, pending/bufferedBytes within limits", () => {
    const maxPending = 100;
    const { r } = make({ maxPending, maxPayloadBytes: 10_000 });
    const before = process.memoryUsage();
    let refused = 0;
    for (let i = 0; i < 100_000; i++) {
      // each claims 2 fragments of 5000 bytes; only the first ever arrives
      const f = claim(`id-${i}`, 2, 5000, 10_000, 0);
      const code = codeOf(() => r.push(f));
      if (code !== undefined) {
        expect(code).toBe("CHUNK_TOO_MANY_PENDING");
        refused++;
      }
      expect(r.pending).toBeLessThanOrEqual(maxPending);
    }
    expect(refused).toBe(100_000 - maxPending);
    expect(r.pending).toBe(maxPending);
    expect(r.bufferedBytes).toBe(maxPending * 10_000);
    const after = process.memoryUsage();
    // loose: far below what 100,000 buffers of 10 kB would take (1 GB)
    expect(after.arrayBuffers - before.arrayBuffers).toBeLessThan(100 * MiB);
  });

  it("maxBufferedBytes caps the bytes held across pending messages", () => {
    const { r } = make({ maxPending: 100, maxPayloadBytes: 1000, maxBufferedBytes: 2500 });
    r.push(claim("a", 2, 500, 1000));
    r.push(claim("b", 2, 500, 1000));
    expect(codeOf(() => r.push(claim("c", 2, 500, 1000)))).toBe("CHUNK_BUFFER_FULL");
    expect(r.bufferedBytes).toBe(2000);
    r.push(claim("d", 2, 250, 500));
    expect(r.bufferedBytes).toBe(2500);
  });

  it("an expired flood frees its memory on the next push", () => {
    const { r, clock } = make({ maxPending: 50, maxPayloadBytes: 10_000, timeoutMs: 100 });
    for (let i = 0; i < 50; i++) r.push(claim(`f${i}`, 2, 5000, 10_000));
    expect(r.bufferedBytes).toBe(500_000);
    clock.t += 100;
    const payload = randomBytes(10);
    expect(Buffer.from(feed(r, split(payload, { maxFragmentBytes: 200 }))[0]!).equals(payload)).toBe(true);
    expect(r.pending).toBe(0);
    expect(r.bufferedBytes).toBe(0);
  });

  it("rejects nonsensical limits", () => {
    expect(codeOf(() => new Reassembler({ maxPayloadBytes: -1, maxFragments: 1, maxPending: 1, timeoutMs: 1 }))).toBe("CHUNK_INVALID_ARGUMENT");
    expect(codeOf(() => new Reassembler({ maxPayloadBytes: 1, maxFragments: 0, maxPending: 1, timeoutMs: 1 }))).toBe("CHUNK_INVALID_ARGUMENT");
  });
});

describe("split options", () => {
  it("refuses a frame size that leaves no body room, and bad ids", () => {
    expect(codeOf(() => split(new Uint8Array(10), { maxFragmentBytes: 90 }))).toBe("CHUNK_INVALID_ARGUMENT");
    expect(codeOf(() => split(new Uint8Array(10), { maxFragmentBytes: 1.5 }))).toBe("CHUNK_INVALID_ARGUMENT");
    expect(codeOf(() => split(new Uint8Array(10), { maxFragmentBytes: 1000, id: "" }))).toBe("CHUNK_INVALID_ARGUMENT");
  });

  it("generates 32-hex-character random ids", () => {
    const a = split(new Uint8Array(1), { maxFragmentBytes: 200 })[0]!.id;
    const b = split(new Uint8Array(1), { maxFragmentBytes: 200 })[0]!.id;
    expect(a).toMatch(/^[0-9a-f]{32}$/);
    expect(a).not.toBe(b);
  });
});

describe("ChunkError", () => {
  it("carries a code from the closed set, details and cause; isChunkError checks by shape", () => {
    const cause = new Error("low level");
    const e = new ChunkError("CHUNK_TOO_LARGE", "too big", { cause, details: { limit: 1, actual: 2 } });
    expect(e.name).toBe("ChunkError");
    expect(e.cause).toBe(cause);
    expect(e.details).toEqual({ limit: 1, actual: 2 });
    expect(CHUNK_ERROR_CODES).toContain(e.code);
    expect(isChunkError(e)).toBe(true);
    expect(isChunkError(new Error("x"))).toBe(false);
    expect(isChunkError(Object.assign(new Error("x"), { name: "ChunkError", code: "NOPE" }))).toBe(false);
  });
});

describe("JSON helpers", () => {
  it("splitJson + JsonReassembler round-trip a value", () => {
    const value = { name: "pièce ✓", list: Array.from({ length: 2000 }, (_, i) => i), nested: { ok: true, n: null } };
    const r = new JsonReassembler<typeof value>({ maxPayloadBytes: MiB, maxFragments: 1000, maxPending: 2, timeoutMs: 1000 });
    const frames = splitJson(value, { maxFragmentBytes: 500 }).map(encodeFragment).reverse();
    const out = frames.map((f) => r.pushFrame(f)).filter((v) => v !== undefined);
    expect(out).toEqual([value]);
    expect(r.pending).toBe(0);
  });

  it("rejects values without JSON form and payloads that are not JSON", () => {
    expect(codeOf(() => splitJson(undefined, { maxFragmentBytes: 500 }))).toBe("CHUNK_BAD_JSON");
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(codeOf(() => splitJson(cyclic, { maxFragmentBytes: 500 }))).toBe("CHUNK_BAD_JSON");
    const r = new JsonReassembler({ maxPayloadBytes: MiB, maxFragments: 1000, maxPending: 2, timeoutMs: 1000 });
    const [f] = split(new TextEncoder().encode("{not json"), { maxFragmentBytes: 500 });
    expect(codeOf(() => r.push(f!))).toBe("CHUNK_BAD_JSON");
    const [g] = split(new Uint8Array([0xff, 0xfe]), { maxFragmentBytes: 500 });
    expect(codeOf(() => r.push(g!))).toBe("CHUNK_BAD_JSON");
  });
});
