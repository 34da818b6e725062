import { describe, expect, it } from "vitest";
import { createTokenVerifier } from "./bearer.js";

const A = "a-first-token-0123456789";
const B = "b-second-token-abcdefghij";

function codeOf(fn: () => void): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    return (err as { code?: string }).code;
  }
}

describe("createTokenVerifier", () => {
  const verify = createTokenVerifier([A, B]);

  it("accepts every configured token, case-insensitive scheme, and names which one", () => {
    expect(verify(`Bearer ${A}`)).toBe("gateway:token-1");
    expect(verify(`bearer ${B}`)).toBe("gateway:token-2");
  });

  it("says AUTH_MISSING without a header", () => {
    expect(codeOf(() => verify(undefined))).toBe("AUTH_MISSING");
    expect(codeOf(() => verify("  "))).toBe("AUTH_MISSING");
  });

  it("says AUTH_INVALID for a wrong token, a prefix, another scheme", () => {
    expect(codeOf(() => verify(`Bearer ${A}x`))).toBe("AUTH_INVALID");
    expect(codeOf(() => verify(`Bearer ${A.slice(0, -1)}`))).toBe("AUTH_INVALID");
    expect(codeOf(() => verify(`Basic ${A}`))).toBe("AUTH_INVALID");
    expect(codeOf(() => verify(`Bearer`))).toBe("AUTH_INVALID");
    expect(codeOf(() => verify(`Bearer ${A} ${B}`))).toBe("AUTH_INVALID");
  });

  it("never puts the presented token in the error", () => {
    try {
      verify("Bearer secret-guess-123456789");
      expect.unreachable();
    } catch (err) {
      expect(String((err as Error).message)).not.toContain("secret-guess");
    }
  });

  it("refuses an empty token list", () => {
    expect(() => createTokenVerifier([])).toThrow(TypeError);
  });
});
