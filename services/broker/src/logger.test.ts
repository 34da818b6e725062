import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { loadConfig } from "./config.js";
import { createLogger } from "./logger.js";

const MNEMONIC = "puffin luxury annoyed rustled memoir faxed smidgen puddle kiwi nylon utopia zinger kiwi";

describe("createLogger", () => {
  it("writes JSON with service and bot, and redacts secrets wherever they sit", () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(chunk.toString());
        cb();
      },
    });
    const log = createLogger({ logLevel: "info", bot: "b1" }, sink);
    const config = loadConfig({ SESSION_MNEMONIC: MNEMONIC, NATS_TOKEN: "tok-123" });
    log.info({ mnemonic: MNEMONIC, nested: { password: "pw", deeper: { token: "t" } }, attachment: { keyBase64: "AAAA" }, config }, "hello");
    const out = lines.join("");
    const parsed = JSON.parse(out) as Record<string, unknown>;
    expect(parsed).toMatchObject({ service: "broker", bot: "b1", msg: "hello", mnemonic: "[redacted]", nested: { password: "[redacted]", deeper: { token: "[redacted]" } } });
    expect(out).not.toContain("puffin");
    expect(out).not.toContain("tok-123");
    expect(out).not.toContain("AAAA");
  });
});
