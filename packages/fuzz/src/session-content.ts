/**
 * Protobuf-shaped SignalService `Content` for fuzzing: the schema's field numbers with hostile
 * values, written by hand so no generated code is needed.
 */
import fc from "fast-check";
import { concat } from "./index.js";

function varint(n: bigint): Uint8Array {
  const out: number[] = [];
  let v = BigInt.asUintN(64, n);
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) b |= 0x80;
    out.push(b);
  } while (v > 0n);
  return Uint8Array.from(out);
}
const tag = (field: number, wire: number): Uint8Array => varint(BigInt((field << 3) | wire));
const pbVarint = (field: number, v: bigint): Uint8Array => concat(tag(field, 0), varint(v));
const pbBytes = (field: number, b: Uint8Array): Uint8Array => concat(tag(field, 2), varint(BigInt(b.length)), b);
const pbString = (field: number, s: string): Uint8Array => pbBytes(field, new TextEncoder().encode(s));

const u64 = fc.oneof(fc.constantFrom(0n, 1n, 2n ** 53n, 2n ** 63n, 2n ** 64n - 1n, 1_700_000_000_000n), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }));
const sid = fc.oneof(
  fc.constant("05" + "ab".repeat(32)),
  fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => "05" + Buffer.from(b).toString("hex")),
  fc.string({ maxLength: 70 }), fc.uint8Array({ minLength: 33, maxLength: 33 }).map((b) => Buffer.from(b).toString("hex")));

/** Protobuf-shaped Content: known fields with hostile values, in random order and repetition. */
export const contentBytes: fc.Arbitrary<Uint8Array> = (() => {
  const quote = fc.tuple(u64, sid).map(([id, a]) => concat(pbVarint(1, id), pbString(2, a)));
  const reaction = fc.tuple(u64, sid, fc.string({ maxLength: 12 }), fc.bigInt({ min: 0n, max: 3n })).map(([id, a, e, act]) =>
    concat(pbVarint(1, id), pbString(2, a), pbString(3, e), pbVarint(4, act)),
  );
  const attachment = fc.tuple(u64, fc.string({ maxLength: 20 }), fc.uint8Array({ maxLength: 80 }), fc.nat()).map(([id, url, key, size]) =>
    concat(pbVarint(1, id), pbString(2, "image/png"), pbBytes(3, key), pbVarint(4, BigInt(size)), pbString(101, url)),
  );
  const dataField = fc.oneof(
    fc.string({ maxLength: 40 }).map((s) => pbString(1, s)),
    attachment.map((a) => pbBytes(2, a)),
    u64.map((f) => pbVarint(4, f)),
    quote.map((q) => pbBytes(8, q)),
    reaction.map((r) => pbBytes(11, r)),
    fc.string({ maxLength: 20 }).map((s) => pbBytes(101, pbString(1, s))),
    fc.tuple(fc.string({ maxLength: 20 }), fc.string({ maxLength: 10 })).map(([u, n]) => pbBytes(102, concat(pbString(1, u), pbString(3, n)))),
    fc.string({ maxLength: 66 }).map((s) => pbString(105, s)),
  );
  const dataMessage = fc.array(dataField, { maxLength: 5 }).map((fs) => concat(...fs));
  const contentField = fc.oneof(
    dataMessage.map((d) => pbBytes(1, d)),
    fc.tuple(fc.bigInt({ min: 0n, max: 3n }), fc.array(u64, { maxLength: 3 })).map(([t, ts]) => pbBytes(5, concat(pbVarint(1, t), ...ts.map((x) => pbVarint(2, x))))),
    fc.tuple(u64, fc.bigInt({ min: 0n, max: 3n })).map(([ts, a]) => pbBytes(6, concat(pbVarint(1, ts), pbVarint(2, a)))),
    fc.tuple(fc.bigInt({ min: 0n, max: 3n }), u64).map(([t, ts]) => pbBytes(8, concat(pbVarint(1, t), pbVarint(2, ts)))),
    fc.tuple(u64, sid).map(([ts, a]) => pbBytes(9, concat(pbVarint(1, ts), pbString(2, a)))),
    fc.boolean().map((b) => pbBytes(10, pbVarint(1, b ? 1n : 0n))),
    fc.bigInt({ min: 0n, max: 5n }).map((t) => pbVarint(12, t)),
    u64.map((t) => pbVarint(13, t)),
    u64.map((t) => pbVarint(15, t)),
  );
  return fc.array(contentField, { minLength: 1, maxLength: 4 }).map((fs) => concat(...fs));
})();

