import { describe, expect, it } from "vitest";
import { Registry } from "prom-client";
import { buildHttp } from "./server.js";

describe("buildHttp", () => {
  it("reports health, readiness with reasons, and metrics", async () => {
    const reasons: string[] = ["stream SB_INBOUND"];
    const app = buildHttp({ readiness: () => reasons, registry: new Registry() });
    expect((await app.inject({ url: "/healthz" })).json()).toEqual({ status: "ok" });
    const notReady = await app.inject({ url: "/readyz" });
    expect(notReady.statusCode).toBe(503);
    expect(notReady.json()).toEqual({ status: "not_ready", reasons: ["stream SB_INBOUND"] });
    reasons.length = 0;
    expect((await app.inject({ url: "/readyz" })).statusCode).toBe(200);
    const metrics = await app.inject({ url: "/metrics" });
    expect(metrics.statusCode).toBe(200);
    expect(metrics.headers["content-type"]).toMatch(/text\/plain/);
  });
});
