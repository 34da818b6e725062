import { describe, expect, it } from "vitest";
import { createHarness } from "@session-bot/plugin-sdk/testing";
import ping, { formatMs } from "./index.js";

describe("ping plugin", () => {
  it("answers with the measured round trip and the event's age", async () => {
    const h = createHarness(ping, { rttMs: 2.345 });
    const r = await h.message("/ping");
    expect(r.texts).toEqual(["pong — bus round trip 2.3 ms, event waited 0.0 ms on the bus (worker harness)"]);
  });

  it("formats durations", () => {
    expect(formatMs(0.04)).toBe("0.0 ms");
    expect(formatMs(12.6)).toBe("13 ms");
  });
});
