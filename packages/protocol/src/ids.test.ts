import { describe, expect, it } from "vitest";
import { deriveActionId, retryMessageId } from "./ids.js";
import { ID_PATTERN } from "./limits.js";
import { catchError } from "./test-support.js";

const HASH = "q3ZJb4Ew2mZ0l1yP9mA4fJ8vD7dK0nQ6s2T5uW1xY3z";

describe("deriveActionId", () => {
  // Vectors computed independently (Python: base64url(sha256(f"{c}\n{p}\n{i}")) without '=').
  it.each([
    [HASH, "echo", 0, "gMeFCseJCxeGv047t6Yr1RWW7bM15ZCPJTTKA9GZt38"],
    [HASH, "echo", 1, "yYFVHtz5yZTyh6dsowZH-x9P-F7lcnwSH6aO0YUlzr4"],
    ["evt-1", "help", 0, "apCqDBvsjHSSRL6iL-QFYOyqH0bqMfgOo_wwoK09K_I"],
  ])("derives the fixed id for (%s, %s, %i)", (causation, plugin, index, expected) => {
    const id = deriveActionId(causation, plugin, index);
    expect(id).toBe(expected);
    expect(id).toMatch(new RegExp(ID_PATTERN));
  });

  it("is deterministic and distinct per plugin and index", () => {
    expect(deriveActionId(HASH, "echo", 0)).toBe(deriveActionId(HASH, "echo", 0));
    expect(new Set([deriveActionId(HASH, "echo", 0), deriveActionId(HASH, "help", 0), deriveActionId(HASH, "echo", 1)]).size).toBe(3);
  });

  it("refuses bad arguments with PROTOCOL_INVALID", () => {
    for (const [c, p, i] of [
      ["", "echo", 0],
      ["a b", "echo", 0],
      [HASH, "Echo", 0],
      [HASH, "", 0],
      [HASH, "echo", -1],
      [HASH, "echo", 1.5],
      [HASH, "echo", Number.NaN],
    ] as [string, string, number][]) {
      expect(catchError(() => deriveActionId(c, p, i)).code).toBe("PROTOCOL_INVALID");
    }
  });
});

describe("retryMessageId", () => {
  it("appends :retry:<n>", () => {
    expect(retryMessageId(HASH, 1)).toBe(`${HASH}:retry:1`);
    expect(retryMessageId("SB_INBOUND:42", 3)).toBe("SB_INBOUND:42:retry:3");
  });
  it("refuses bad attempts, bad ids and results longer than 128 characters", () => {
    for (const n of [0, -1, 1.5]) expect(catchError(() => retryMessageId(HASH, n)).code).toBe("PROTOCOL_INVALID");
    expect(catchError(() => retryMessageId("a b", 1)).code).toBe("PROTOCOL_INVALID");
    expect(catchError(() => retryMessageId("a".repeat(121), 1)).code).toBe("PROTOCOL_INVALID");
    expect(retryMessageId("a".repeat(120), 1)).toHaveLength(128);
  });
});
