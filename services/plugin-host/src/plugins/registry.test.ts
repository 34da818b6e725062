import { describe, expect, it } from "vitest";
import { Type, definePlugin } from "@session-bot/plugin-sdk";
import type { PluginConfigRecord } from "@session-bot/protocol";
import { PluginRegistry } from "./registry.js";

const withDefaults = definePlugin({
  name: "a",
  version: "1.0.0",
  description: "a",
  configSchema: Type.Object({ n: Type.Integer({ default: 1, minimum: 0 }) }),
  commands: { go: { description: "go", handler: () => {} } },
});
const needsConfig = definePlugin({
  name: "b",
  version: "1.0.0",
  description: "b",
  configSchema: Type.Object({ token: Type.String({ minLength: 1 }) }),
  onMessage: () => {},
});
const loaded = [withDefaults, needsConfig].map((plugin) => ({ plugin, manifest: {} as never, source: plugin.name }));
const rec = (enabled: boolean, config: Record<string, unknown>): PluginConfigRecord => ({ v: 1, enabled, config, updatedAt: 0, updatedBy: "test" });

describe("PluginRegistry", () => {
  it("starts from defaults; a plugin without a valid default config does not run", () => {
    const r = new PluginRegistry(loaded, true);
    expect(r.runnable().map((s) => s.plugin.name)).toEqual(["a"]);
    expect(r.get("a")!.config).toEqual({ n: 1 });
    expect(r.get("b")!.refused).toMatch(/invalid config for plugin b/);
    expect(r.summaries().map((s) => s.name)).toEqual(["a"]);
  });

  it("applies records: enable, configure, disable; deletion restores defaults", () => {
    const r = new PluginRegistry(loaded, false);
    expect(r.runnable()).toEqual([]);
    expect(r.apply("b", rec(true, { token: "t" }), 1)).toEqual({ ok: true, changed: true });
    expect(r.runnable().map((s) => s.plugin.name)).toEqual(["b"]);
    expect(r.apply("a", rec(true, { n: 5 }), 2).ok).toBe(true);
    expect(r.get("a")!.config).toEqual({ n: 5 });
    expect(r.summaries().map((s) => s.name)).toEqual(["a", "b"]);
    r.apply("a", rec(false, {}), 3);
    expect(r.runnable().map((s) => s.plugin.name)).toEqual(["b"]);
    r.apply("a", null, 4);
    expect(r.get("a")).toMatchObject({ enabled: false, config: { n: 1 }, revision: 4 });
  });

  it("refuses an invalid config and keeps the previous state", () => {
    const r = new PluginRegistry(loaded, true);
    r.apply("a", rec(true, { n: 7 }), 1);
    const res = r.apply("a", rec(true, { n: -1 }), 2);
    expect(res.ok).toBe(false);
    expect(r.get("a")).toMatchObject({ enabled: true, config: { n: 7 }, refused: expect.stringMatching(/\/n must be >= 0/) });
  });

  it("ignores stale revisions and unknown plugins", () => {
    const r = new PluginRegistry(loaded, true);
    r.apply("a", rec(true, { n: 3 }), 5);
    expect(r.apply("a", rec(true, { n: 9 }), 4)).toEqual({ ok: true, changed: false });
    expect(r.get("a")!.config).toEqual({ n: 3 });
    expect(r.apply("zzz", rec(true, {}), 9)).toEqual({ ok: true, changed: false });
  });

  it("honours a disable even when the record's config is invalid", () => {
    const r = new PluginRegistry(loaded, true);
    expect(r.apply("a", rec(false, { n: -5 }), 1).ok).toBe(false);
    expect(r.get("a")).toMatchObject({ enabled: false, config: { n: 1 }, refused: expect.any(String) });
    expect(r.runnable()).toEqual([]);
  });
});
