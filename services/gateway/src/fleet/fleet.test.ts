import { describe, expect, it } from "vitest";
import { toWorker } from "./fleet.js";
import { serviceDiscoverySubject, type StatsReply } from "./services-api.js";

const base: StatsReply = {
  type: "io.nats.micro.v1.stats_response",
  name: "sb-plugin-host",
  id: "ID1",
  version: "1.2.3",
  started: "2026-01-01T00:00:00.000Z",
  metadata: { bot: "demo", instance: "w-1", plugins: "ping,echo" },
  endpoints: [],
};
const stats = { v: 1, inFlight: 2, handled: 5, errors: 1, plugins: { help: { handled: 5, errors: 1, averageLatencyMs: 2 } } };

describe("toWorker", () => {
  it("takes instance, start time and loaded plugins from the $SRV reply", () => {
    expect(toWorker(base, "demo")).toEqual({ id: "ID1", bot: "demo", instance: "w-1", version: "1.2.3", startedAt: Date.parse(base.started), plugins: ["echo", "ping"] });
  });

  it("adds the WorkerStats of the first endpoint whose data is one, and the plugins it reports", () => {
    const r: StatsReply = {
      ...base,
      endpoints: [
        { name: "other", subject: "x", num_requests: 1, num_errors: 0, processing_time: 0, average_processing_time: 0, data: { not: "stats" } },
        { name: "stats", subject: "sb.plugin-host.demo.stats", num_requests: 3, num_errors: 0, processing_time: 0, average_processing_time: 0, data: stats },
      ],
    };
    const w = toWorker(r, "demo");
    expect(w.stats).toEqual(stats);
    expect(w.plugins).toEqual(["echo", "help", "ping"]);
  });

  it("survives missing metadata, a bad start time and invalid stats data", () => {
    const w = toWorker({ ...base, metadata: null, started: "not a date", endpoints: [{ name: "s", subject: "s", num_requests: 0, num_errors: 0, processing_time: 0, average_processing_time: 0, data: { v: 2 } }] }, "demo");
    expect(w).toEqual({ id: "ID1", bot: "demo", version: "1.2.3", plugins: [] });
  });
});

describe("serviceDiscoverySubject", () => {
  it("builds $SRV subjects and refuses tokens that would change them", () => {
    expect(serviceDiscoverySubject("PING", "sb-plugin-host")).toBe("$SRV.PING.sb-plugin-host");
    for (const bad of ["", "a.b", "a*", ">", "a b"]) expect(() => serviceDiscoverySubject("STATS", bad)).toThrow(TypeError);
  });
});
