import { describe, expect, it } from "vitest";
import { MESSAGE_CODECS } from "./registry.js";
import { sampleMessages } from "./samples.js";
import { catchError } from "./test-support.js";

describe("every top-level message", () => {
  const samples = sampleMessages();

  it("has samples for every codec and no sample without a codec", () => {
    expect(Object.keys(samples).sort()).toEqual(MESSAGE_CODECS.map((c) => c.name).sort());
  });

  for (const codec of MESSAGE_CODECS) {
    describe(codec.name, () => {
      const valid = samples[codec.name] ?? [];

      it("accepts its valid samples (parse, is, check, encode/decode round trip)", () => {
        expect(valid.length).toBeGreaterThan(0);
        for (const sample of valid) {
          expect(codec.check(sample)).toEqual([]);
          expect(codec.is(sample)).toBe(true);
          expect(codec.parse(sample)).toBe(sample);
          const bytes = codec.encode(sample as never);
          expect(bytes).toBeInstanceOf(Uint8Array);
          expect(codec.decode(bytes)).toEqual(sample);
        }
      });

      it("rejects non-objects with PROTOCOL_INVALID at the root", () => {
        for (const bad of [null, 1, "x", [], true]) {
          expect(codec.is(bad)).toBe(false);
          const err = catchError(() => codec.parse(bad));
          expect(err.code).toBe("PROTOCOL_INVALID");
          expect(err.problems.some((p) => p.instancePath === "")).toBe(true);
        }
      });

      it("accepts unknown extra fields (forward compatibility)", () => {
        for (const sample of valid) {
          expect(codec.is({ ...(sample as object), someFutureField: { x: 1 } })).toBe(true);
        }
      });

      it("reports each missing required top-level field by its own pointer", () => {
        const sample = valid[0] as Record<string, unknown>;
        const schema = codec.schema as { required?: string[]; oneOf?: unknown };
        for (const key of schema.required ?? []) {
          const copy = { ...sample };
          delete copy[key];
          const err = catchError(() => codec.parse(copy));
          expect(err.code).toBe("PROTOCOL_INVALID");
          expect(err.problems.map((p) => p.instancePath)).toContain(`/${key}`);
        }
      });

      if ((codec.schema as { properties?: Record<string, unknown> }).properties?.["v"] !== undefined || codec.name === "InboundEvent" || codec.name === "OutboundAction") {
        it("rejects another major version with PROTOCOL_UNSUPPORTED_VERSION at /v", () => {
          for (const v of [0, 2, 99]) {
            const err = catchError(() => codec.parse({ ...(valid[0] as object), v }));
            expect(err.code).toBe("PROTOCOL_UNSUPPORTED_VERSION");
            expect(err.problems[0]?.instancePath).toBe("/v");
            expect(codec.is({ ...(valid[0] as object), v })).toBe(false);
          }
        });

        it("rejects a non-integer v with PROTOCOL_INVALID at /v", () => {
          for (const v of ["1", 1.5, null]) {
            const err = catchError(() => codec.parse({ ...(valid[0] as object), v }));
            expect(err.code).toBe("PROTOCOL_INVALID");
            expect(err.problems.map((p) => p.instancePath)).toContain("/v");
          }
        });
      }
    });
  }
});

