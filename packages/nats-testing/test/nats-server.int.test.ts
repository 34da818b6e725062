import { connect } from "@nats-io/transport-node";
import { describe, expect, it } from "vitest";
import { startNats } from "../src/index.js";

describe.each(["container", "binary"] as const)("startNats(%s)", (kind) => {
  it("serves JetStream, honours max_payload and survives restart() on the same URL", async () => {
    const nats = await startNats({ kind, maxPayload: 256 * 1024 });
    try {
      let nc = await connect({ servers: nats.url });
      expect(nc.info?.jetstream).toBe(true);
      expect(nc.info?.max_payload).toBe(256 * 1024);
      await nc.close();
      await nats.restart();
      nc = await connect({ servers: nats.url });
      const sub = nc.subscribe("t.x", { max: 1 });
      nc.publish("t.x", "hi");
      for await (const m of sub) expect(m.string()).toBe("hi");
      await nc.close();
    } finally {
      await nats.stop();
    }
  });
});
