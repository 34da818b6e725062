import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { definePlugin } from "@session-bot/plugin-sdk";
import { assertPluginConfig } from "@session-bot/protocol";
import { DEFAULT_PLUGINS } from "../config.js";
import { isHostError } from "../errors.js";
import { checkConflicts, loadPlugins, pluginFromModule } from "./loader.js";

const fixtures = fileURLToPath(new URL("../../test/fixtures", import.meta.url));
const p = (name: string, commands: string[]) =>
  definePlugin({ name, version: "1.0.0", description: name, commands: Object.fromEntries(commands.map((c) => [c, { description: c, handler: () => {} }])) });

async function failure(promise: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await promise;
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error("expected a failure");
}

describe("loadPlugins", () => {
  it("loads workspace packages by name and a directory of ESM modules", async () => {
    const loaded = await loadPlugins(["@session-bot/plugin-echo", "@session-bot/plugin-files"], `${fixtures}/plugins`);
    expect(loaded.map((l) => l.plugin.name)).toEqual(["echo", "files", "bomb", "greeter", "probe"]);
    expect(loaded[0]!.manifest).toMatchObject({ v: 1, name: "echo", commands: [{ name: "echo" }] });
  });

  it("loads a file path relative to the working directory", async () => {
    const loaded = await loadPlugins(["./plugins/greeter.mjs"], undefined, fixtures);
    expect(loaded[0]!.plugin.name).toBe("greeter");
  });

  it("refuses a module that cannot be imported, with its name", async () => {
    const err = await failure(loadPlugins(["@session-bot/plugin-does-not-exist"], undefined));
    expect(err.code).toBe("HOST_PLUGIN_LOAD_FAILED");
    expect(err.message).toContain("@session-bot/plugin-does-not-exist cannot be imported");
  });

  it("refuses modules without a default export or with an invalid definition", async () => {
    const err = await failure(loadPlugins([], `${fixtures}/bad`));
    expect(err.code).toBe("HOST_PLUGIN_LOAD_FAILED");
    expect(err.message).toMatch(/bad-manifest\.mjs: .*name must match.*version must be/);
    expect(() => pluginFromModule({ nothing: 1 }, "x.mjs")).toThrow(/no default export/);
  });

  it("refuses reserved names", () => {
    expect(() => pluginFromModule({ default: p("router", ["x"]) }, "r.mjs")).toThrow(/reserved/);
  });

  it("refuses two plugins with the same name or command", () => {
    const a = pluginFromModule({ default: p("a", ["go"]) }, "a");
    const b = pluginFromModule({ default: p("b", ["go"]) }, "b");
    const a2 = pluginFromModule({ default: p("a", ["other"]) }, "a2");
    let caught: unknown;
    try {
      checkConflicts([a, b]);
    } catch (err) {
      caught = err;
    }
    expect(isHostError(caught, "HOST_PLUGIN_CONFLICT")).toBe(true);
    expect((caught as Error).message).toBe("command /go is declared by both a and b");
    expect(() => checkConflicts([a, a2])).toThrow(/two plugins are named a/);
  });

  it("the shipped plugins load, and their manifests accept an empty config (defaults fill it)", async () => {
    const loaded = await loadPlugins(DEFAULT_PLUGINS, undefined);
    expect(loaded.map((l) => l.plugin.name)).toEqual(["help", "echo", "ping", "reminders", "files", "admin"]);
    for (const { manifest } of loaded) expect(assertPluginConfig(manifest, {})).toEqual({});
    const echo = loaded.find((l) => l.plugin.name === "echo")!.manifest;
    expect(() => assertPluginConfig(echo, { echoAll: "yes" })).toThrow();
  });
});
