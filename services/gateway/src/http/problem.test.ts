import { describe, expect, it } from "vitest";
import { GATEWAY_ERROR_CODES, GatewayError } from "../errors.js";
import { normalize, statusOf, toProblem } from "./problem.js";

describe("problem mapping", () => {
  it("gives every code a status and a stable type", () => {
    for (const code of GATEWAY_ERROR_CODES) {
      const p = toProblem(new GatewayError(code, "x"), "/a");
      expect(p.status).toBeGreaterThanOrEqual(400);
      expect(p.code).toBe(code);
      expect(p.type).toMatch(/^urn:session-bot:gateway:problem:[a-z-]+$/);
      expect(p.title.length).toBeGreaterThan(0);
    }
  });

  it("passes actionable broker statuses through and nothing else", () => {
    const rejected = (s: number) => new GatewayError("BROKER_REJECTED", "no", { details: { upstreamStatus: s, upstreamCode: "X" } });
    expect(statusOf(rejected(404))).toBe(404);
    expect(statusOf(rejected(409))).toBe(409);
    expect(statusOf(rejected(418))).toBe(400);
    expect(toProblem(rejected(404)).upstreamCode).toBe("X");
  });

  it("maps Fastify's own errors by status", () => {
    const fe = (statusCode: number) => Object.assign(new Error("m"), { statusCode });
    expect(normalize(fe(413)).code).toBe("BODY_TOO_LARGE");
    expect(normalize(fe(415)).code).toBe("UNSUPPORTED_MEDIA_TYPE");
    expect(normalize(fe(400)).code).toBe("VALIDATION_FAILED");
    expect(normalize(fe(429)).code).toBe("RATE_LIMITED");
    expect(normalize(new Error("boom")).code).toBe("INTERNAL");
    expect(normalize(new Error("boom")).message).not.toContain("boom");
  });
});
