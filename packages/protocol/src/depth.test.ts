// MAX_JSON_DEPTH: decode refuses JSON nested deeper than the limit and encode refuses values nested
// deeper, both with PROTOCOL_TOO_LARGE, so what decodes always encodes again (fuzz finding
// "protocol-decode-accepts-what-encode-cannot-write": a 50,000-level extra field decoded, then
// failed to encode).
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { decodeAttachmentPutPayload, encodeAttachmentPutPayload } from "./attachment-envelope.js";
import { isProtocolError } from "./errors.js";
import { MAX_DEAD_LETTER_JSON_DEPTH, MAX_DEAD_LETTER_PAYLOAD_LENGTH, MAX_JSON_DEPTH, MAX_PLUGIN_CONFIG_DEPTH } from "./limits.js";
import { MESSAGE_CODECS } from "./registry.js";
import { decodeInboundEvent, encodeInboundEvent, type InboundEvent } from "./schemas/inbound.js";
import { assertPluginConfig, decodePluginConfigRecord, parsePluginManifest } from "./schemas/plugin.js";
import { deadLetterPayload, decodeDeadLetter, encodeDeadLetter, type DeadLetter } from "./schemas/dead-letter.js";
import { decodeDeadLetterPage, encodeDeadLetterPage, encodePluginStatusList, type PluginStatusList } from "./schemas/admin.js";
import { sampleInboundEvents, sampleMessages } from "./samples.js";
import { catchError } from "./test-support.js";
import { decodeJson, nestsDeeperThan } from "./validation.js";

const enc = new TextEncoder();

/** Nesting of a parsed JSON value: a scalar is 0, `{}` and `[]` are 1 (the definition MAX_JSON_DEPTH uses). */
function depthOf(value: unknown): number {
  if (typeof value !== "object" || value === null) return 0;
  const children = Array.isArray(value) ? value : Object.values(value);
  let max = 0;
  for (const c of children) max = Math.max(max, depthOf(c));
  return 1 + max;
}

/** The ProtocolError code `fn` throws, or undefined when it returns. */
function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    if (isProtocolError(err)) return err.code;
    throw err;
  }
}

/** `{"a":{"a":…{}…}}` with `levels` objects (built iteratively). */
function nested(levels: number): Record<string, unknown> {
  let v: Record<string, unknown> = {};
  for (let i = 1; i < levels; i++) v = { a: v };
  return v;
}

/** A sample event with an extra field `zz` whose value has `levels` levels: the whole message has levels + 1. */
function eventWithExtra(levels: number): InboundEvent {
  return { ...sampleInboundEvents()[0]!, zz: nested(levels) } as unknown as InboundEvent;
}

/** The same as JSON text, built as text (no recursion, so any depth). */
function eventTextWithExtra(levels: number): string {
  const base = JSON.stringify({ ...sampleInboundEvents()[0]!, zz: 0 });
  return base.replace('"zz":0', `"zz":${'{"a":'.repeat(levels - 1)}{}${"}".repeat(levels - 1)}`);
}

describe("decode: MAX_JSON_DEPTH", () => {
  it("is 64", () => {
    expect(MAX_JSON_DEPTH).toBe(64);
  });

  it("accepts a message nested exactly MAX_JSON_DEPTH levels and refuses one more with PROTOCOL_TOO_LARGE", () => {
    const atLimit = eventTextWithExtra(MAX_JSON_DEPTH - 1);
    expect(depthOf(JSON.parse(atLimit))).toBe(MAX_JSON_DEPTH);
    expect(depthOf(decodeInboundEvent(atLimit))).toBe(MAX_JSON_DEPTH);
    expect(depthOf(decodeInboundEvent(enc.encode(atLimit)))).toBe(MAX_JSON_DEPTH);
    const over = eventTextWithExtra(MAX_JSON_DEPTH);
    for (const input of [over, enc.encode(over)]) {
      const err = catchError(() => decodeInboundEvent(input));
      expect(err.code).toBe("PROTOCOL_TOO_LARGE");
      expect(err.message).toContain(`deeper than ${MAX_JSON_DEPTH} levels`);
      expect(err.problems).toEqual([{ instancePath: "", message: `nests deeper than ${MAX_JSON_DEPTH} levels`, keyword: "maxDepth" }]);
    }
  });

  it("refuses the fuzz finding's input (an extra field 50,000 levels deep) with PROTOCOL_TOO_LARGE", () => {
    expect(catchError(() => decodeInboundEvent(eventTextWithExtra(50_000))).code).toBe("PROTOCOL_TOO_LARGE");
    expect(catchError(() => decodeJson(`${"[".repeat(500_000)}${"]".repeat(500_000)}`)).code).toBe("PROTOCOL_TOO_LARGE");
  });

  it("counts arrays and objects alike, at any position", () => {
    expect(catchError(() => decodeJson(`${"[".repeat(65)}${"]".repeat(65)}`)).code).toBe("PROTOCOL_TOO_LARGE");
    expect(decodeJson(`${"[".repeat(64)}${"]".repeat(64)}`)).toBeInstanceOf(Array);
    // Many brackets side by side are not deep.
    expect(decodeJson(`[${"[],".repeat(10_000)}{}]`)).toHaveLength(10_001);
    expect(decodeJson(`[${'{"a":[1]},'.repeat(1_000)}0]`)).toHaveLength(1_001);
    // Deep in the last element of a wide array.
    expect(catchError(() => decodeJson(`[${"[],".repeat(100)}${"[".repeat(64)}${"]".repeat(64)}]`)).code).toBe("PROTOCOL_TOO_LARGE");
  });

  it("does not count brackets inside strings, escaped quotes and backslashes included", () => {
    const text = { ...sampleInboundEvents()[0]!, text: `${"[{".repeat(2_000)}"\\"\\\\[` };
    expect(decodeInboundEvent(JSON.stringify(text))).toEqual(text);
    expect(decodeJson(JSON.stringify({ k: "\\", a: [[1]] }))).toEqual({ k: "\\", a: [[1]] });
    expect(decodeJson(JSON.stringify([`\\"${"[".repeat(100)}`, "]]]]"]))).toHaveLength(2);
    // Brackets in property names too.
    expect(decodeJson(JSON.stringify({ ["[".repeat(100)]: { "\\\"{{{": 1 } }))).toBeTypeOf("object");
  });

  it("malformed deep text is still refused (PROTOCOL_TOO_LARGE or PROTOCOL_BAD_JSON, never a crash)", () => {
    for (const text of ["[".repeat(100_000), `"${"[".repeat(100)}`, `{"a":"\\"${"{".repeat(100)}`, `${"]".repeat(1_000)}${"[".repeat(1_000)}`]) {
      expect(["PROTOCOL_TOO_LARGE", "PROTOCOL_BAD_JSON"]).toContain(catchError(() => decodeJson(text)).code);
    }
  });

  it("applies to every decodeX and to the attachment envelope header", () => {
    const over = `{"v":1,"zz":${"[".repeat(MAX_JSON_DEPTH)}${"]".repeat(MAX_JSON_DEPTH)}}`;
    for (const codec of Object.values(MESSAGE_CODECS)) {
      expect(catchError(() => codec.decode(over)).code, codec.name).toBe("PROTOCOL_TOO_LARGE");
    }
    const header = enc.encode(over);
    const payload = new Uint8Array(4 + header.byteLength);
    new DataView(payload.buffer).setUint32(0, header.byteLength);
    payload.set(header, 4);
    expect(catchError(() => decodeAttachmentPutPayload(payload)).code).toBe("PROTOCOL_TOO_LARGE");
  });

  it("refuses a plugin config record nested too deeply", () => {
    const record = sampleMessages()["PluginConfigRecord"]![0] as Record<string, unknown>;
    const text = JSON.stringify({ ...record, config: { deep: 0 } }).replace('"deep":0', `"deep":${"[".repeat(MAX_JSON_DEPTH)}${"]".repeat(MAX_JSON_DEPTH)}`);
    expect(catchError(() => decodePluginConfigRecord(text)).code).toBe("PROTOCOL_TOO_LARGE");
  });
});

describe("encode: MAX_JSON_DEPTH", () => {
  it("encodes a message nested exactly MAX_JSON_DEPTH levels and refuses one more with PROTOCOL_TOO_LARGE", () => {
    const ok = eventWithExtra(MAX_JSON_DEPTH - 1);
    expect(decodeInboundEvent(encodeInboundEvent(ok))).toEqual(ok);
    const err = catchError(() => encodeInboundEvent(eventWithExtra(MAX_JSON_DEPTH)));
    expect(err.code).toBe("PROTOCOL_TOO_LARGE");
    expect(err.problems[0]?.keyword).toBe("maxDepth");
  });

  it("refuses a value too deep for JSON.stringify itself (50,000 levels) with PROTOCOL_TOO_LARGE, the RangeError as cause", () => {
    const err = catchError(() => encodeInboundEvent(eventWithExtra(50_000)));
    expect(err.code).toBe("PROTOCOL_TOO_LARGE");
    expect(err.cause).toBeInstanceOf(RangeError);
  });

  it("refuses a too-deep attachment header with PROTOCOL_TOO_LARGE", () => {
    const bytes = enc.encode("hi");
    const put = { v: 1 as const, contentType: "text/plain", size: bytes.byteLength, zz: nested(MAX_JSON_DEPTH) };
    expect(catchError(() => encodeAttachmentPutPayload(put, bytes)).code).toBe("PROTOCOL_TOO_LARGE");
    const deeper = { ...put, zz: nested(50_000) };
    expect(catchError(() => encodeAttachmentPutPayload(deeper, bytes)).code).toBe("PROTOCOL_TOO_LARGE");
    const fine = { ...put, zz: nested(MAX_JSON_DEPTH - 1) };
    expect(decodeAttachmentPutPayload(encodeAttachmentPutPayload(fine, bytes)).header).toEqual(fine);
  });

  it("assertPluginConfig refuses a configSchema nested too deeply with PROTOCOL_TOO_LARGE, not a RangeError", () => {
    const base = sampleMessages()["PluginManifest"]![0] as Record<string, unknown>;
    for (const levels of [MAX_JSON_DEPTH + 1, 50_000]) {
      const manifest = parsePluginManifest({ ...base, configSchema: { type: "object", properties: { a: nested(levels) } } });
      expect(catchError(() => assertPluginConfig(manifest, {})).code).toBe("PROTOCOL_TOO_LARGE");
    }
  });
});

describe("documents that embed others leave room", () => {
  const deadLetter = (body: Uint8Array): DeadLetter => ({ ...(sampleMessages()["DeadLetter"]![0] as DeadLetter), payload: deadLetterPayload(body) });
  const nestedText = (levels: number): string => `${"[".repeat(levels)}${"]".repeat(levels)}`;

  it("deadLetterPayload keeps a body as JSON up to MAX_DEAD_LETTER_JSON_DEPTH (60) levels, as base64 beyond", () => {
    expect(MAX_DEAD_LETTER_JSON_DEPTH).toBe(MAX_JSON_DEPTH - 4);
    expect(deadLetterPayload(enc.encode('{"v":1,"kind":"message"}'))).toEqual({ encoding: "json", json: { v: 1, kind: "message" } });
    expect(deadLetterPayload(enc.encode(nestedText(60)))).toEqual({ encoding: "json", json: JSON.parse(nestedText(60)) });
    const deep = enc.encode(nestedText(61));
    expect(deadLetterPayload(deep)).toEqual({ encoding: "base64", data: Buffer.from(deep).toString("base64") });
    expect(deadLetterPayload(enc.encode(nestedText(50_000))).encoding).toBe("base64");
  });

  it("deadLetterPayload keeps non-JSON, non-UTF-8 and oversized bodies as base64 (cut, flagged truncated)", () => {
    expect(deadLetterPayload(new Uint8Array([0xff, 0x00]))).toEqual({ encoding: "base64", data: "/wA=" });
    expect(deadLetterPayload(enc.encode("{nope"))).toEqual({ encoding: "base64", data: Buffer.from("{nope").toString("base64") });
    const maxBytes = (MAX_DEAD_LETTER_PAYLOAD_LENGTH / 4) * 3;
    const big = enc.encode(JSON.stringify("x".repeat(maxBytes)));
    const payload = deadLetterPayload(big);
    expect(payload).toMatchObject({ encoding: "base64", truncated: true });
    expect(payload.encoding === "base64" && payload.data.length).toBe(MAX_DEAD_LETTER_PAYLOAD_LENGTH);
    // A view into a larger buffer is encoded from its own bytes.
    const outer = enc.encode("xx[1]yy");
    expect(deadLetterPayload(outer.subarray(2, 5))).toEqual({ encoding: "json", json: [1] });
    expect(deadLetterPayload(new Uint8Array([0x78, 0xff, 0x79]).subarray(1, 2))).toEqual({ encoding: "base64", data: "/w==" });
  });

  it("a dead letter of any body, 1 to 80 or 50,000 levels deep, encodes, decodes, and fits in a DeadLetterPage", () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer({ min: 1, max: 80 }), fc.constant(50_000)), fc.boolean(), (levels, objects) => {
        const text = objects ? `${'{"a":'.repeat(levels - 1)}{}${"}".repeat(levels - 1)}` : nestedText(levels);
        const dl = deadLetter(enc.encode(text));
        expect(dl.payload.encoding).toBe(levels <= MAX_DEAD_LETTER_JSON_DEPTH ? "json" : "base64");
        expect(decodeDeadLetter(encodeDeadLetter(dl))).toEqual(dl);
        expect(decodeDeadLetterPage(encodeDeadLetterPage({ v: 1, items: [dl], nextCursor: null })).items[0]).toEqual(dl);
      }),
      { numRuns: 100 },
    );
  });

  it("assertPluginConfig accepts a config MAX_PLUGIN_CONFIG_DEPTH (32) levels deep, refuses one more at /config, and such a config fits in a PluginStatusList", () => {
    const manifest = parsePluginManifest({ ...(sampleMessages()["PluginManifest"]![0] as Record<string, unknown>), configSchema: undefined });
    const ok = nested(MAX_PLUGIN_CONFIG_DEPTH);
    expect(assertPluginConfig(manifest, ok)).toBe(ok);
    const err = catchError(() => assertPluginConfig(manifest, nested(MAX_PLUGIN_CONFIG_DEPTH + 1)));
    expect(err.code).toBe("PROTOCOL_TOO_LARGE");
    expect(err.problems).toEqual([{ instancePath: "/config", message: `nests deeper than ${MAX_PLUGIN_CONFIG_DEPTH} levels`, keyword: "maxDepth" }]);
    expect(catchError(() => assertPluginConfig(manifest, { a: [[[nested(MAX_PLUGIN_CONFIG_DEPTH)]]] })).code).toBe("PROTOCOL_TOO_LARGE");
    // A cycle is "too deep" (not a hang or a RangeError).
    const cyclic: Record<string, unknown> = {};
    cyclic["self"] = cyclic;
    expect(catchError(() => assertPluginConfig(manifest, cyclic)).code).toBe("PROTOCOL_TOO_LARGE");
    const list = sampleMessages()["PluginStatusList"]![0] as PluginStatusList;
    const withDeepest = { ...list, items: list.items.map((p) => ({ ...p, config: ok })) };
    expect(() => encodePluginStatusList(withDeepest)).not.toThrow();
  });
});

describe("property: decode and encode agree on depth", () => {
  // Strings made of the characters that could confuse a bracket scanner.
  const trickyString = fc.string({ unit: fc.constantFrom("[", "]", "{", "}", '"', "\\", "a", ",", ":"), maxLength: 8 });
  const tree = fc.letrec<{ node: unknown }>((tie) => ({
    node: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      fc.oneof(trickyString, fc.integer(), fc.constant(null), fc.boolean()),
      fc.array(tie("node"), { maxLength: 3 }),
      fc.dictionary(trickyString, tie("node"), { maxKeys: 3 }),
    ),
  })).node;

  it("nestsDeeperThan(JSON text, d) is exactly depthOf(value) > d", () => {
    fc.assert(
      fc.property(tree, fc.nat({ max: 8 }), (value, d) => {
        expect(nestsDeeperThan(JSON.stringify(value), d)).toBe(depthOf(value) > d);
      }),
      { numRuns: 2_000 },
    );
  });

  it("a value wrapped to around MAX_JSON_DEPTH encodes exactly when it decodes, and round-trips", () => {
    fc.assert(
      fc.property(tree, fc.integer({ min: MAX_JSON_DEPTH - 8, max: MAX_JSON_DEPTH + 2 }), (value, wraps) => {
        let zz: unknown = value;
        for (let i = 0; i < wraps; i++) zz = i % 2 === 0 ? [zz] : { k: zz };
        const event = { ...sampleInboundEvents()[0]!, zz } as unknown as InboundEvent;
        const text = JSON.stringify(event);
        let decoded: InboundEvent | undefined;
        const decodeCode = codeOf(() => (decoded = decodeInboundEvent(text)));
        const encodeCode = codeOf(() => encodeInboundEvent(event));
        expect(decodeCode).toBe(encodeCode);
        expect(decodeCode === undefined).toBe(depthOf(event) <= MAX_JSON_DEPTH);
        if (decoded !== undefined) expect(new TextDecoder().decode(encodeInboundEvent(decoded))).toBe(text);
      }),
      { numRuns: 300 },
    );
  });
});
