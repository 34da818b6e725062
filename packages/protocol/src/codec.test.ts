import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { MAX_BUS_MESSAGE_BYTES } from "./limits.js";
import { isProtocolError, ProtocolError, PROTOCOL_ERROR_CODES } from "./errors.js";
import { MESSAGE_CODECS } from "./registry.js";
import { decodeInboundEvent, encodeInboundEvent, INBOUND_KINDS, isInboundEvent, parseInboundEvent } from "./schemas/inbound.js";
import { OUTBOUND_ACTIONS, parseOutboundAction, type SendAction } from "./schemas/outbound.js";
import { parseDeadLetter } from "./schemas/dead-letter.js";
import { assertPluginConfig, parsePluginManifest } from "./schemas/plugin.js";
import { errorReply, errorReplyFromProtocolError, parseErrorReply } from "./schemas/error-reply.js";
import { MAX_REPORTED_PROBLEMS, decodeJson } from "./validation.js";
import { sampleInboundEvents, sampleMessages, sampleOutboundActions } from "./samples.js";
import { catchError } from "./test-support.js";
import { tagValues } from "./schemas/common.js";
import { InboundEventSchema } from "./schemas/inbound.js";
import { OutboundActionSchema } from "./schemas/outbound.js";

const enc = new TextEncoder();

describe("decode", () => {
  const event = sampleInboundEvents()[0]!;

  it("decodes UTF-8 JSON bytes and strings", () => {
    expect(decodeInboundEvent(enc.encode(JSON.stringify(event)))).toEqual(event);
    expect(decodeInboundEvent(JSON.stringify(event))).toEqual(event);
  });

  it("refuses bad JSON with PROTOCOL_BAD_JSON and the SyntaxError as cause", () => {
    for (const text of ["", "{", "{'a':1}", "undefined", "[1,]", "\u0000"]) {
      const err = catchError(() => decodeInboundEvent(enc.encode(text)));
      expect(err.code).toBe("PROTOCOL_BAD_JSON");
      expect(err.cause).toBeInstanceOf(SyntaxError);
    }
  });

  it("refuses invalid UTF-8 with PROTOCOL_BAD_JSON", () => {
    for (const bytes of [[0xff], [0x7b, 0xc3], [0xed, 0xa0, 0x80]]) {
      expect(catchError(() => decodeInboundEvent(new Uint8Array(bytes))).code).toBe("PROTOCOL_BAD_JSON");
    }
  });

  it("refuses a non-bytes argument with PROTOCOL_BAD_JSON", () => {
    expect(catchError(() => decodeInboundEvent(123 as unknown as Uint8Array)).code).toBe("PROTOCOL_BAD_JSON");
  });

  it("refuses more than MAX_BUS_MESSAGE_BYTES with PROTOCOL_TOO_LARGE before parsing", () => {
    const big = new Uint8Array(MAX_BUS_MESSAGE_BYTES + 1).fill(0x20);
    expect(catchError(() => decodeInboundEvent(big)).code).toBe("PROTOCOL_TOO_LARGE");
    expect(catchError(() => decodeJson(" ".repeat(MAX_BUS_MESSAGE_BYTES + 1))).code).toBe("PROTOCOL_TOO_LARGE");
    // 400,000 three-byte characters = 1,200,000 UTF-8 bytes although the string is shorter than the limit.
    expect(catchError(() => decodeJson(`"${"€".repeat(400_000)}"`)).code).toBe("PROTOCOL_TOO_LARGE");
    expect(decodeJson(`"${"€".repeat(300_000)}"`)).toHaveLength(300_000);
  });

  it("valid JSON but invalid message gives PROTOCOL_INVALID", () => {
    expect(catchError(() => decodeInboundEvent(enc.encode("{}"))).code).toBe("PROTOCOL_INVALID");
  });
});

describe("encode", () => {
  it("validates before encoding", () => {
    const bad = { ...sampleInboundEvents()[0]!, text: 5 } as never;
    expect(catchError(() => encodeInboundEvent(bad)).code).toBe("PROTOCOL_INVALID");
  });
  it("refuses values JSON cannot represent (BigInt, cycles in extra fields) with PROTOCOL_INVALID", () => {
    const withBigInt = { ...sampleInboundEvents()[0]!, extra: 1n } as never;
    expect(catchError(() => encodeInboundEvent(withBigInt)).code).toBe("PROTOCOL_INVALID");
    const cyclic: Record<string, unknown> = { ...sampleInboundEvents()[0]! };
    cyclic["self"] = cyclic;
    expect(catchError(() => encodeInboundEvent(cyclic as never)).code).toBe("PROTOCOL_INVALID");
  });
  it("produces UTF-8 JSON", () => {
    const event = { ...sampleInboundEvents()[0]!, text: "héllo 😀" };
    expect(new TextDecoder().decode(encodeInboundEvent(event))).toBe(JSON.stringify(event));
  });
});

describe("discriminated unions", () => {
  it("INBOUND_KINDS and OUTBOUND_ACTIONS match the schemas", () => {
    const kinds = tagValues("kind", (InboundEventSchema as unknown as { oneOf: never[] }).oneOf);
    expect(kinds).toEqual([...INBOUND_KINDS]);
    const actions = tagValues("action", (OutboundActionSchema as unknown as { oneOf: never[] }).oneOf);
    expect(actions).toEqual([...OUTBOUND_ACTIONS]);
  });

  it("an unknown kind / action is PROTOCOL_UNKNOWN_KIND at /kind or /action", () => {
    const e = catchError(() => parseInboundEvent({ ...sampleInboundEvents()[0]!, kind: "call" }));
    expect(e.code).toBe("PROTOCOL_UNKNOWN_KIND");
    expect(e.problems[0]?.instancePath).toBe("/kind");
    const a = catchError(() => parseOutboundAction({ ...sampleOutboundActions()[0]!, action: "delete" }));
    expect(a.code).toBe("PROTOCOL_UNKNOWN_KIND");
    expect(a.problems[0]?.instancePath).toBe("/action");
    expect(isInboundEvent({ ...sampleInboundEvents()[0]!, kind: "call" })).toBe(false);
  });

  it("a missing or non-string tag is PROTOCOL_INVALID at the tag", () => {
    const { kind: _k, ...noKind } = sampleInboundEvents()[0]!;
    for (const bad of [noKind, { ...noKind, kind: 1 }, { ...noKind, kind: null }]) {
      const e = catchError(() => parseInboundEvent(bad));
      expect(e.code).toBe("PROTOCOL_INVALID");
      expect(e.problems.map((p) => p.instancePath)).toContain("/kind");
    }
  });

  it("only the matching branch's problems are reported", () => {
    const e = catchError(() => parseInboundEvent({ ...sampleInboundEvents()[1]!, op: "toggle" }));
    expect(e.code).toBe("PROTOCOL_INVALID");
    expect(e.problems.every((p) => p.instancePath === "/op")).toBe(true);
  });

  it("each kind's own fields are required", () => {
    const cases: [Record<string, unknown>, string][] = [
      [sampleInboundEvents()[0]!, "/attachments"],
      [sampleInboundEvents()[1]!, "/target"],
      [sampleInboundEvents()[2]!, "/timestamps"],
      [sampleInboundEvents()[3]!, "/state"],
      [sampleInboundEvents()[4]!, "/approved"],
      [sampleInboundEvents()[5]!, "/target"],
    ];
    for (const [event, pointer] of cases) {
      const copy = { ...event };
      delete copy[pointer.slice(1)];
      expect(catchError(() => parseInboundEvent(copy)).problems.map((p) => p.instancePath)).toContain(pointer);
    }
    const { conversation: _c, ...noConversation } = sampleOutboundActions()[0] as SendAction;
    expect(catchError(() => parseOutboundAction(noConversation)).problems.map((p) => p.instancePath)).toContain("/conversation");
  });

  it("nested unions report the nested pointer", () => {
    const dl = sampleMessages()["DeadLetter"]![0] as Record<string, unknown>;
    const e = catchError(() => parseDeadLetter({ ...dl, payload: { encoding: "hex", data: "00" } }));
    expect(e.code).toBe("PROTOCOL_INVALID");
    expect(e.problems.map((p) => p.instancePath)).toContain("/payload/encoding");
    const e2 = catchError(() => parseDeadLetter({ ...dl, payload: { encoding: "base64", data: "not base64!" } }));
    expect(e2.problems.map((p) => p.instancePath)).toContain("/payload/data");
  });

  it("pointers escape ~ and / in property names (RFC 6901)", () => {
    const manifest = parsePluginManifest({
      v: 1,
      name: "p",
      version: "1.0.0",
      description: "",
      commands: [],
      configSchema: { type: "object", additionalProperties: false, required: ["x/y~z"], properties: { "x/y~z": { type: "string" } } },
    });
    const err = catchError(() => assertPluginConfig(manifest, { "a/b~c": 1 }));
    expect(err.problems.map((p) => p.instancePath).sort()).toEqual(["/config/a~1b~0c", "/config/x~1y~0z"]);
  });

  it("pointers name nested and missing fields", () => {
    const stats = { v: 1, inFlight: 0, handled: 0, errors: 0, plugins: { echo: { handled: 1, errors: 0 } } };
    expect(catchError(() => MESSAGE_CODECS.find((c) => c.name === "WorkerStats")!.parse(stats)).problems.map((p) => p.instancePath)).toContain(
      "/plugins/echo/averageLatencyMs",
    );
    const cfg = { v: 1, enabled: true, config: {}, updatedAt: 1 };
    expect(catchError(() => MESSAGE_CODECS.find((c) => c.name === "PluginConfigRecord")!.parse(cfg)).problems[0]?.instancePath).toBe("/updatedBy");
  });
});

describe("ProtocolError", () => {
  it("has a fixed name, a code from the closed set, problems and cause", () => {
    const cause = new Error("x");
    const err = new ProtocolError("PROTOCOL_INVALID", "bad", { problems: [{ instancePath: "/a", message: "m" }], cause });
    expect(err.name).toBe("ProtocolError");
    expect(err).toBeInstanceOf(Error);
    expect(err.cause).toBe(cause);
    expect(isProtocolError(err)).toBe(true);
    expect(isProtocolError(new Error("x"))).toBe(false);
    expect(isProtocolError({ name: "ProtocolError", code: "OTHER" })).toBe(false);
    expect(isProtocolError(null)).toBe(false);
    expect(new ProtocolError("PROTOCOL_BAD_NAME", "x").problems).toEqual([]);
  });
  it("caps problems at MAX_REPORTED_PROBLEMS and never echoes values", () => {
    const secret = "s3cr3t-value";
    const read = { ...sampleInboundEvents()[2]!, timestamps: Array.from({ length: 100 }, () => secret) };
    const err = catchError(() => parseInboundEvent(read));
    expect(err.problems.length).toBe(MAX_REPORTED_PROBLEMS);
    expect(err.message).not.toContain(secret);
    expect(JSON.stringify(err.problems)).not.toContain(secret);
    expect(err.message).toContain("(+");
  });
});

describe("error replies", () => {
  it("errorReply builds a valid ErrorReply and cuts long messages", () => {
    expect(parseErrorReply(errorReply("NOT_FOUND", "nope"))).toEqual({ v: 1, code: "NOT_FOUND", message: "nope" });
    expect(parseErrorReply(errorReply("X", "m".repeat(5_000), { a: 1 })).message).toHaveLength(1_000);
  });
  it("errorReplyFromProtocolError carries the code and problems", () => {
    const err = catchError(() => parseInboundEvent({}));
    const reply = parseErrorReply(errorReplyFromProtocolError(err));
    expect(reply.code).toBe("PROTOCOL_INVALID");
    expect((reply.details as { problems: unknown[] }).problems.length).toBe(err.problems.length);
  });
});

describe("property: parse never throws anything but ProtocolError", () => {
  const knownCodes = new Set<string>(PROTOCOL_ERROR_CODES);
  const expectOnlyProtocolErrors = (fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      if (!isProtocolError(err) || !knownCodes.has(err.code)) throw err;
    }
  };

  it("on arbitrary JSON values, for every message", () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (value) => {
        for (const codec of MESSAGE_CODECS) {
          expectOnlyProtocolErrors(() => codec.parse(value));
          expect(typeof codec.is(value)).toBe("boolean");
        }
      }),
      { numRuns: 200 },
    );
  });

  it("on valid samples with one field replaced by arbitrary JSON", () => {
    const all = Object.entries(sampleMessages());
    fc.assert(
      fc.property(fc.nat(), fc.nat(), fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 3 }), (i, j, key, value) => {
        const [name, samples] = all[i % all.length]!;
        const codec = MESSAGE_CODECS.find((c) => c.name === name)!;
        const sample = samples[j % samples.length] as Record<string, unknown>;
        const keys = Object.keys(sample);
        const field = j % 3 === 0 ? key : keys[j % keys.length]!;
        const mutated = { ...sample, [field]: value };
        expectOnlyProtocolErrors(() => codec.parse(mutated));
        // When parse accepts, is() agrees, and the value survives an encode/decode round trip.
        if (codec.is(mutated)) expect(codec.decode(codec.encode(mutated as never))).toEqual(JSON.parse(JSON.stringify(mutated)));
      }),
      { numRuns: 300 },
    );
  });

  it("on arbitrary bytes given to decode", () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 200 }), fc.string().map((s) => enc.encode(s)), fc.jsonValue({ maxDepth: 3 }).map((v) => enc.encode(JSON.stringify(v)))), (bytes) => {
        for (const codec of MESSAGE_CODECS) expectOnlyProtocolErrors(() => codec.decode(bytes));
      }),
      { numRuns: 200 },
    );
  });
});
