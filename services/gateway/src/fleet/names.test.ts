import { describe, expect, it } from "vitest";
import { brokerSubject, serviceDiscoverySubject } from "./names.js";

describe("names", () => {
  it("builds broker subjects with the bot before the endpoint", () => {
    expect(brokerSubject("demo", "info")).toBe("sb.broker.demo.info");
    expect(brokerSubject("demo", "dead-letters.retry")).toBe("sb.broker.demo.dead-letters.retry");
  });
  it("refuses bot tokens that would change the subject", () => {
    for (const bad of ["", "a.b", "a*", ">", "A", "x y"]) expect(() => brokerSubject(bad, "info")).toThrow(TypeError);
  });
  it("builds $SRV discovery subjects", () => {
    expect(serviceDiscoverySubject("STATS", "sb-plugin-host")).toBe("$SRV.STATS.sb-plugin-host");
    expect(() => serviceDiscoverySubject("PING", "a.b")).toThrow(TypeError);
  });
});
