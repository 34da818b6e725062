import { describe, expect, it } from "vitest";
import { Type } from "@sinclair/typebox";
import { resolveConfig } from "./config.js";
import { definePlugin } from "./define.js";
import { isPluginError } from "./errors.js";

const plugin = definePlugin({
  name: "cfg",
  version: "1.0.0",
  description: "Config demo.",
  configSchema: Type.Object({ greeting: Type.String({ default: "hello", maxLength: 10 }), times: Type.Integer({ minimum: 1, default: 1 }) }, { additionalProperties: false }),
  onMessage: () => {},
});

describe("resolveConfig", () => {
  it("fills defaults and leaves the input untouched", () => {
    const raw = { times: 3 };
    expect(resolveConfig(plugin, raw)).toEqual({ greeting: "hello", times: 3 });
    expect(raw).toEqual({ times: 3 });
    expect(resolveConfig(plugin, undefined)).toEqual({ greeting: "hello", times: 1 });
  });

  it("refuses invalid config with PLUGIN_INVALID_CONFIG naming the field", () => {
    for (const bad of [{ times: 0 }, { greeting: "x".repeat(11) }, { extra: true }, { times: "2" }]) {
      let caught: unknown;
      try {
        resolveConfig(plugin, bad);
      } catch (err) {
        caught = err;
      }
      expect(isPluginError(caught, "PLUGIN_INVALID_CONFIG")).toBe(true);
      expect((caught as Error).message).toMatch(/cfg/);
    }
  });

  it("accepts only an empty object for a plugin without a schema", () => {
    const bare = definePlugin({ name: "bare", version: "1.0.0", description: "No config.", onMessage: () => {} });
    expect(resolveConfig(bare, {})).toEqual({});
    expect(() => resolveConfig(bare, { a: 1 })).toThrow(/invalid config/);
  });
});
