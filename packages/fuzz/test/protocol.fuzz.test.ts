// Every top-level schema of @session-bot/protocol (MESSAGE_CODECS, through the package's named
// `decodeX` / `parseX` / `isX` exports), fed random bytes, random JSON and mutations of the valid
// samples of `@session-bot/protocol/samples`. Only ProtocolError (by code) may come out, `isX` and
// `check` never throw and agree with `parseX`, and whatever is accepted re-encodes and round-trips.
import { createHash } from "node:crypto";
import fc from "fast-check";
import * as protocol from "@session-bot/protocol";
import { sampleMessages } from "@session-bot/protocol/samples";
import { beforeAll, describe, expect, it } from "vitest";
import { nastyJsonValue, startWatchdog, bounded, expectTyped, fuzzParams, heapUsed, HEAP_GROWTH_LIMIT, mutatedBytes, mutatedJson } from "../src/index.js";

const PROTOCOL = { name: "ProtocolError", codes: protocol.PROTOCOL_ERROR_CODES };
const SAMPLES = sampleMessages();

interface Named {
  readonly name: string;
  readonly decode: (b: Uint8Array | string) => unknown;
  readonly parse: (v: unknown) => unknown;
  readonly is: (v: unknown) => boolean;
  readonly check: (v: unknown) => readonly unknown[];
  readonly encode: (v: never) => Uint8Array;
}

/** The package's named functions of each codec (`decodeInboundEvent`, ...). */
const CODECS: Named[] = protocol.MESSAGE_CODECS.map((c) => {
  const ns = protocol as unknown as Record<string, unknown>;
  // The named export when there is one (AttachmentDescriptor has no decode/encode), else the codec's.
  const named = <F>(prefix: "decode" | "parse" | "is" | "encode"): F => {
    const f = ns[`${prefix}${c.name}`];
    return (typeof f === "function" ? f : c[prefix]) as F;
  };
  return {
    name: c.name,
    decode: named("decode"),
    parse: named("parse"),
    is: named("is"),
    encode: named("encode"),
    check: c.check,
  };
});

const codec = fc.constantFrom(...CODECS);
const sampleOf = (c: Named): fc.Arbitrary<unknown> => {
  const list = SAMPLES[c.name];
  if (list === undefined || list.length === 0) throw new Error(`no sample of ${c.name}`);
  return fc.constantFrom(...list);
};
/** A codec with a mutation of one of its own samples, or (1 in 4) of another schema's sample. */
const codecAndMutant = fc.tuple(codec, codec, fc.nat(3)).chain(([c, other, which]) => mutatedJson(sampleOf(which === 0 ? other : c)).map((m) => [c, m] as const));

/** Nesting of a JSON value: a scalar is 0, `{}` and `[]` are 1 (as `MAX_JSON_DEPTH` counts). */
function depthOf(value: unknown): number {
  if (typeof value !== "object" || value === null) return 0;
  let max = 0;
  for (const child of Array.isArray(value) ? value : Object.values(value)) max = Math.max(max, depthOf(child));
  return 1 + max;
}

let heapAtStart = 0;
beforeAll(async () => {
  await startWatchdog();
  heapAtStart = heapUsed();
});

/** Everything that can be said about one value against one codec. */
function checkValue(c: Named, value: unknown): void {
  const problems = bounded(`check${c.name}`, () => c.check(value));
  const is = bounded(`is${c.name}`, () => c.is(value));
  const parsed = bounded(`parse${c.name}`, () => expectTyped(PROTOCOL, () => c.parse(value)));
  expect(is).toBe(problems.length === 0);
  if (parsed.ok) {
    expect(is).toBe(true);
    const enc = bounded(`encode${c.name}`, () => expectTyped(PROTOCOL, () => c.encode(value as never)));
    if (enc.ok) {
      const back = bounded(`decode${c.name}`, () => expectTyped(PROTOCOL, () => c.decode(enc.value)));
      expect(back.ok, `${c.name}: encoded value does not decode again`).toBe(true);
      if (back.ok) expect(back.value).toEqual(JSON.parse(JSON.stringify(value)));
    } else {
      expect(`${enc.code}: ${enc.message}`).toMatch(/^PROTOCOL_TOO_LARGE/);
    }
  } else if (parsed.code !== "PROTOCOL_UNSUPPORTED_VERSION" && parsed.code !== "PROTOCOL_UNKNOWN_KIND") {
    // Those two are decided before the schema; otherwise parse fails exactly when check does.
    expect(problems.length).toBeGreaterThan(0);
  }
}

describe("every protocol schema", () => {
  it("has valid samples (the fuzzing corpus)", () => {
    for (const c of CODECS) for (const s of SAMPLES[c.name] ?? []) expect(c.check(s), c.name).toEqual([]);
  });

  it("decodeX: random bytes and random strings", () => {
    fc.assert(
      fc.property(codec, fc.oneof(fc.uint8Array({ maxLength: 200 }), fc.string({ maxLength: 200 })), (c, input) => {
        bounded(`decode${c.name}`, () => expectTyped(PROTOCOL, () => c.decode(input)));
      }),
      fuzzParams(1_000),
    );
  });

  it("parseX / isX / checkX: random JSON values agree and only throw ProtocolError", () => {
    fc.assert(
      fc.property(codec, fc.oneof(fc.jsonValue({ maxDepth: 4 }), nastyJsonValue), (c, value) => checkValue(c, value)),
      fuzzParams(1_000),
    );
  });

  it("parseX / isX / checkX: mutations of the valid samples", () => {
    fc.assert(
      fc.property(codecAndMutant, ([c, value]) => checkValue(c, value)),
      fuzzParams(3_000),
    );
  });

  it("decodeX: the bytes of mutated samples, and byte-level mutations of encoded samples", () => {
    const encodedSample = codec.chain((c) => sampleOf(c).map((s) => [c, new TextEncoder().encode(JSON.stringify(s))] as const));
    const input = fc.oneof(
      codecAndMutant.map(([c, v]) => [c, new TextEncoder().encode(JSON.stringify(v) ?? "")] as const),
      encodedSample.chain(([c, b]) => mutatedBytes(fc.constant(b)).map((m) => [c, m] as const)),
    );
    fc.assert(
      fc.property(input, ([c, bytes]) => {
        const out = bounded(`decode${c.name}`, () => expectTyped(PROTOCOL, () => c.decode(bytes)));
        if (out.ok) checkValue(c, out.value);
      }),
      fuzzParams(2_000),
    );
  });

  it("attachment envelopes: mutations of valid put / get payloads", () => {
    const { sha256: _drop, ...put } = SAMPLES.AttachmentPutRequest![0] as protocol.AttachmentPutRequest;
    const reply = SAMPLES.AttachmentReply![0] as protocol.AttachmentReply;
    const putFile = new Uint8Array(put.size).fill(7);
    const getFile = new Uint8Array(reply.attachment.size).fill(9);
    const sha = createHash("sha256").update(getFile).digest("hex");
    const valid = [
      { put: true, bytes: protocol.encodeAttachmentPutPayload(put, putFile) },
      { put: false, bytes: protocol.encodeAttachmentGetPayload({ ...reply, attachment: { ...reply.attachment, sha256: sha } }, getFile) },
    ];
    fc.assert(
      fc.property(fc.constantFrom(...valid).chain((v) => mutatedBytes(fc.constant(v.bytes)).map((b) => [v.put, b] as const)), ([asPut, b]) => {
        bounded("decodeAttachment*Payload", () =>
          expectTyped(PROTOCOL, () => (asPut ? protocol.decodeAttachmentPutPayload(b) : protocol.decodeAttachmentGetPayload(b))),
        );
      }),
      fuzzParams(500),
    );
  });

  it("decodeX: a sample with one field nested 1–80 or 50,000 levels deep decodes only within MAX_JSON_DEPTH, and what decodes encodes again", () => {
    // Regression of the finding protocol-decode-accepts-what-encode-cannot-write: a 50,000-level
    // extra field decoded, and encodeX of the decoded value then failed. Built as text (any depth).
    const MARK = "__deep_value_here__";
    const deep = (kind: number, n: number): string => {
      const [open, leaf, close] = kind === 0 ? ['{"a":', "{}", "}"] : kind === 1 ? ["[", "[]", "]"] : ['["x",', "[]", "]"];
      return `${open.repeat(n - 1)}${leaf}${close.repeat(n - 1)}`;
    };
    const input = codec.chain((c) =>
      fc.record({
        c: fc.constant(c),
        sample: sampleOf(c).filter((v): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v)),
        keyPick: fc.nat(),
        levels: fc.oneof(fc.integer({ min: 1, max: 80 }), fc.integer({ min: protocol.MAX_JSON_DEPTH - 2, max: protocol.MAX_JSON_DEPTH + 1 }), fc.constant(50_000)),
        kind: fc.nat(2),
      }),
    );
    fc.assert(
      fc.property(input, ({ c, sample, keyPick, levels, kind }) => {
        const keys = [...Object.keys(sample), "zz"];
        const key = keys[keyPick % keys.length]!;
        const others = { ...sample, [key]: null };
        const text = JSON.stringify({ ...sample, [key]: MARK }).replace(JSON.stringify(MARK), deep(kind, levels));
        const depth = Math.max(depthOf(others), 1 + levels);
        const out = bounded(`decode${c.name}`, () => expectTyped(PROTOCOL, () => c.decode(text)));
        if (depth > protocol.MAX_JSON_DEPTH) {
          expect(out.ok ? "decoded" : out.code, `${c.name}: ${depth} levels`).toBe("PROTOCOL_TOO_LARGE");
        } else if (out.ok) {
          const enc = bounded(`encode${c.name}`, () => expectTyped(PROTOCOL, () => c.encode(out.value as never)));
          expect(enc.ok ? "encoded" : `${enc.code}: ${enc.message}`, `${c.name}: decoded ${depth} levels`).toBe("encoded");
          if (enc.ok) expect(new TextDecoder().decode(enc.value)).toBe(text);
        } else {
          expect(out.code, `${c.name}: ${depth} levels`).not.toBe("PROTOCOL_TOO_LARGE");
        }
      }),
      fuzzParams(400),
    );
  });

  it("deadLetterPayload: any body (random bytes, mutated samples, deep JSON) gives a dead letter that encodes, decodes and fits in a page", () => {
    const dl = SAMPLES.DeadLetter![0] as protocol.DeadLetter;
    const deepText = fc.tuple(fc.integer({ min: 1, max: 80 }), fc.boolean()).map(([n, obj]) => (obj ? `${'{"a":'.repeat(n - 1)}{}${"}".repeat(n - 1)}` : `${"[".repeat(n)}${"]".repeat(n)}`));
    const body = fc.oneof(
      fc.uint8Array({ maxLength: 300 }),
      codecAndMutant.map(([, v]) => new TextEncoder().encode(JSON.stringify(v) ?? "")),
      deepText.map((t) => new TextEncoder().encode(t)),
    );
    fc.assert(
      fc.property(body, (b) => {
        const letter = { ...dl, payload: bounded("deadLetterPayload", () => protocol.deadLetterPayload(b)) };
        const back = bounded("decodeDeadLetter", () => protocol.decodeDeadLetter(protocol.encodeDeadLetter(letter)));
        expect(back).toEqual(JSON.parse(JSON.stringify(letter)));
        bounded("encodeDeadLetterPage", () => protocol.encodeDeadLetterPage({ v: 1, items: [letter], nextCursor: null }));
      }),
      fuzzParams(500),
    );
  });

  it("subject and key names: parse of random and mutated names fails with PROTOCOL_BAD_NAME or round-trips", () => {
    const token = fc.oneof(fc.constantFrom("demo", "echo", "0", "12", "message", "typing", "*", ">", "", " ", "a.b", "É"), fc.string({ maxLength: 12 }));
    const name = fc.oneof(
      fc.tuple(token, token, token).map(([b, p, k]) => `sb.in.${b}.${p}.${k}`),
      fc.tuple(token, token).map(([b, p]) => `${b}.${p}`),
      fc.string({ maxLength: 40 }),
      fc.constantFrom("sb.in.demo.0.message", "demo.echo").chain((v) => fc.tuple(fc.nat(), fc.string({ maxLength: 3 })).map(([at, ins]) => v.slice(0, at % (v.length + 1)) + ins + v.slice(at % (v.length + 1)))),
    );
    const NAME = { name: "ProtocolError", codes: ["PROTOCOL_BAD_NAME"] };
    fc.assert(
      fc.property(name, fc.integer({ min: -2, max: 70_000 }), (n, partition) => {
        const subject = bounded("parseInboundSubject", () => expectTyped(NAME, () => protocol.parseInboundSubject(n)));
        if (subject.ok) expect(protocol.inboundSubject(subject.value.bot, subject.value.partition, subject.value.kind)).toBe(n);
        const key = bounded("parsePluginConfigKey", () => expectTyped(NAME, () => protocol.parsePluginConfigKey(n)));
        if (key.ok) expect(protocol.pluginConfigKey(key.value.bot, key.value.plugin)).toBe(n);
        const [bot, plugin] = n.split(".", 2);
        bounded("inboundSubject", () => expectTyped(NAME, () => protocol.inboundSubject(bot ?? "", partition, (plugin ?? "") as protocol.InboundKind)));
        bounded("pluginStateBucket", () => expectTyped(NAME, () => protocol.pluginStateBucket(plugin ?? "")));
      }),
      fuzzParams(1_000),
    );
  });

  it("heap growth over this suite stays bounded", () => {
    expect(heapUsed() - heapAtStart).toBeLessThan(HEAP_GROWTH_LIMIT);
  });
});
