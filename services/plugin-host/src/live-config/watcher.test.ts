import { describe, expect, it } from "vitest";
import { Type, definePlugin } from "@session-bot/plugin-sdk";
import { encodePluginConfigRecord, pluginConfigKey } from "@session-bot/protocol";
import { PluginRegistry } from "../plugins/registry.js";
import { applyEntry } from "./watcher.js";

const echo = definePlugin({ name: "echo", version: "1.0.0", description: "e", configSchema: Type.Object({ prefix: Type.String({ default: "" }) }), onMessage: () => {} });
const make = () => new PluginRegistry([{ plugin: echo, manifest: {} as never, source: "echo" }], true);
const put = (key: string, value: Uint8Array, revision: number) => ({ key, value, operation: "PUT" as const, revision });
const rec = (config: Record<string, unknown>, enabled = true) => encodePluginConfigRecord({ v: 1, enabled, config, updatedAt: 1, updatedBy: "t" });

describe("applyEntry", () => {
  it("applies a valid record for this bot", () => {
    const r = make();
    expect(applyEntry(r, "bot", put(pluginConfigKey("bot", "echo"), rec({ prefix: "> " }), 1))).toBe("applied");
    expect(r.get("echo")!.config).toEqual({ prefix: "> " });
  });

  it("ignores other bots, unknown plugins and malformed keys", () => {
    const r = make();
    expect(applyEntry(r, "bot", put(pluginConfigKey("other", "echo"), rec({}), 1))).toBe("ignored");
    expect(applyEntry(r, "bot", put(pluginConfigKey("bot", "nope"), rec({}), 2))).toBe("ignored");
    expect(applyEntry(r, "bot", put("garbage", rec({}), 3))).toBe("ignored");
  });

  it("refuses bad JSON, a non-record and an invalid config, keeping the previous state", () => {
    const r = make();
    applyEntry(r, "bot", put(pluginConfigKey("bot", "echo"), rec({ prefix: "ok" }), 1));
    expect(applyEntry(r, "bot", put(pluginConfigKey("bot", "echo"), new TextEncoder().encode("{not json"), 2))).toBe("refused");
    expect(applyEntry(r, "bot", put(pluginConfigKey("bot", "echo"), new TextEncoder().encode('{"enabled":true}'), 3))).toBe("refused");
    expect(applyEntry(r, "bot", put(pluginConfigKey("bot", "echo"), rec({ prefix: 1 }), 4))).toBe("refused");
    expect(r.get("echo")).toMatchObject({ enabled: true, config: { prefix: "ok" } });
  });

  it("a deleted record restores the defaults", () => {
    const r = make();
    applyEntry(r, "bot", put(pluginConfigKey("bot", "echo"), rec({ prefix: "x" }, false), 1));
    expect(applyEntry(r, "bot", { key: pluginConfigKey("bot", "echo"), value: new Uint8Array(), operation: "DEL", revision: 2 })).toBe("applied");
    expect(r.get("echo")).toMatchObject({ enabled: true, config: { prefix: "" } });
  });
});
