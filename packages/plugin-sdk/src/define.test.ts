import { describe, expect, it } from "vitest";
import { Type } from "@sinclair/typebox";
import { assertPluginConfig, parsePluginManifest } from "@session-bot/protocol";
import { checkPluginSpec, definePlugin, isPlugin, manifestOf, summarize } from "./define.js";
import { isPluginError } from "./errors.js";

const ok = { name: "demo", version: "1.2.3", description: "A demo.", commands: { hi: { description: "Says hi.", handler: () => {} } } };

describe("definePlugin", () => {
  it("returns a branded, frozen plugin", () => {
    const p = definePlugin(ok);
    expect(isPlugin(p)).toBe(true);
    expect(Object.isFrozen(p)).toBe(true);
    expect(isPlugin({ ...ok })).toBe(false);
  });

  it("lists every problem of a bad definition", () => {
    let caught: unknown;
    try {
      definePlugin({ name: "Bad Name", version: "one", description: "", commands: { "no way": { description: "x", handler: () => {} }, ok: { description: "", handler: 1 as never } } });
    } catch (err) {
      caught = err;
    }
    expect(isPluginError(caught, "PLUGIN_INVALID_DEFINITION")).toBe(true);
    const msg = (caught as Error).message;
    for (const part of ["name must match", "version must be", "description must be", 'command "no way"', "command ok: handler", "command ok: description"]) expect(msg).toContain(part);
  });

  it("refuses a plugin with nothing to do, a bad schema and a too-fast task", () => {
    expect(checkPluginSpec({ name: "x", version: "1.0.0", description: "d" })).toContain("a plugin needs at least one command, handler or task");
    expect(checkPluginSpec({ ...ok, configSchema: { type: "string" } })).toContain("configSchema must be an object schema (Type.Object({...}))");
    expect(checkPluginSpec({ ...ok, tasks: { t: { everyMs: 1, run: () => {} } } })[0]).toMatch(/everyMs/);
    expect(checkPluginSpec(null)).toEqual(["a plugin must be an object"]);
  });

  it("produces a manifest protocol accepts, with the config schema as plain JSON", () => {
    const p = definePlugin({
      ...ok,
      configSchema: Type.Object({ greeting: Type.String({ default: "hi" }) }),
      commands: { hi: { description: "Says hi.", usage: "<name>", handler: () => {} }, op: { description: "Admin.", admin: true, handler: () => {} } },
    });
    const m = parsePluginManifest(manifestOf(p));
    expect(m.commands).toEqual([
      { name: "hi", description: "Says hi.", usage: "<name>" },
      { name: "op", description: "Admin.", adminOnly: true },
    ]);
    expect(m.configSchema).toMatchObject({ type: "object", properties: { greeting: { type: "string", default: "hi" } } });
    expect(summarize(p).commands.map((c) => [c.name, c.admin])).toEqual([
      ["hi", false],
      ["op", true],
    ]);
  });

  it("publishes properties with defaults as optional, so a manifest-only validator accepts what the host accepts", () => {
    const p = definePlugin({
      ...ok,
      configSchema: Type.Object({ a: Type.Integer({ default: 1 }), b: Type.String(), c: Type.Object({ d: Type.Boolean({ default: false }) }, { default: {} }) }),
    });
    const m = parsePluginManifest(manifestOf(p));
    expect(m.configSchema).toMatchObject({ required: ["b"] });
    expect(assertPluginConfig(m, { b: "x" })).toEqual({ b: "x" });
    expect(() => assertPluginConfig(m, {})).toThrow();
    expect(() => assertPluginConfig(m, { b: "x", a: "one" })).toThrow();
  });
});
