import { describe, expect, it } from "vitest";
import { pino } from "pino";
import { MemoryStoreBackend, createStore, definePlugin, memoryLogger, type AnyPlugin } from "@session-bot/plugin-sdk";
import type { RuntimeDeps } from "@session-bot/plugin-sdk/runtime";
import { deriveActionId, type InboundEvent, type OutboundAction } from "@session-bot/protocol";
import { PluginRegistry } from "../plugins/registry.js";
import { ExternalCommands } from "../routing/external-commands.js";
import { processEvent, type ProcessorDeps } from "./processor.js";
import { PluginStats } from "./stats.js";

const peer = `05${"2".repeat(64)}`;
const msg = (text: string, id = "evt-1"): InboundEvent => ({ v: 1, id, bot: "b", conversation: peer, sender: peer, timestamp: 1, receivedAt: 1, kind: "message", text, attachments: [] });

const echo = definePlugin({ name: "echo", version: "1.0.0", description: "e", commands: { echo: { description: "e", handler: (ctx) => ctx.reply(ctx.command.argText) } } });
const bomb = definePlugin({ name: "bomb", version: "1.0.0", description: "b", onMessage: () => { throw new Error("boom"); } });
const slow = definePlugin({ name: "slow", version: "1.0.0", description: "s", commands: { slow: { description: "s", handler: (ctx) => new Promise<void>((r) => ctx.signal.addEventListener("abort", () => r())) } } });

function setup(plugins: AnyPlugin[], overrides: Partial<ProcessorDeps> = {}) {
  const emitted: OutboundAction[] = [];
  const registry = new PluginRegistry(plugins.map((plugin) => ({ plugin, manifest: {} as never, source: plugin.name })), true);
  const stats = new PluginStats();
  const emit = (a: OutboundAction) => {
    emitted.push(a);
    return Promise.resolve();
  };
  const runtimeFor = (plugin: AnyPlugin): RuntimeDeps => ({
    bot: "b",
    instance: "t",
    emit,
    attachments: { get: () => Promise.reject(new Error("none")), put: () => Promise.reject(new Error("none")) },
    store: createStore(new MemoryStoreBackend()),
    log: memoryLogger([], { plugin: plugin.name }),
    isAdmin: () => false,
    rtt: () => Promise.resolve(1),
    plugins: () => registry.summaries(),
    now: () => Date.now(),
  });
  const deps: ProcessorDeps = {
    registry,
    runtimeFor,
    emit,
    stats,
    log: pino({ level: "silent" }),
    handlerTimeoutMs: 100,
    commandPrefix: "/",
    unknownCommandReply: "Unknown {prefix}{command}",
    isAdmin: () => false,
    ...overrides,
  };
  return { deps, emitted, stats, registry };
}

describe("processEvent", () => {
  it("a throwing plugin is reported while the others still answer", async () => {
    const { deps, emitted, stats } = setup([echo, bomb]);
    const out = await processEvent(msg("/echo hi"), deps);
    expect(out.failures).toEqual([{ plugin: "bomb", code: "PLUGIN_HANDLER_FAILED", message: expect.stringContaining("boom") }]);
    expect(out.handledBy).toEqual(["echo"]);
    expect(emitted.map((a) => (a.action === "send" ? a.text : a.action))).toEqual(["hi"]);
    expect(stats.snapshot()).toMatchObject({ echo: { handled: 1, errors: 0 }, bomb: { handled: 1, errors: 1 } });
  });

  it("reports a timed-out handler as PLUGIN_TIMEOUT", async () => {
    const { deps, stats } = setup([slow]);
    const out = await processEvent(msg("/slow"), deps);
    expect(out.failures.map((f) => f.code)).toEqual(["PLUGIN_TIMEOUT"]);
    expect(stats.snapshot().slow).toMatchObject({ timeouts: 1, errors: 1 });
  });

  it("answers an unknown command as the router, with a derived id", async () => {
    const { deps, emitted } = setup([echo]);
    await processEvent(msg("/nope", "evt-9"), deps);
    expect(emitted).toEqual([
      { v: 1, id: deriveActionId("evt-9", "router", 0), bot: "b", causationId: "evt-9", plugin: "router", action: "send", conversation: peer, text: "Unknown /nope" },
    ]);
  });

  it("stays silent on an unknown command when the reply is disabled, and on plain text", async () => {
    const { deps, emitted } = setup([echo], { unknownCommandReply: "" });
    await processEvent(msg("/nope"), deps);
    await processEvent(msg("just text"), deps);
    expect(emitted).toEqual([]);
  });

  it("answers /help itself when no enabled plugin owns it, and ignores disabled plugins", async () => {
    const { deps, emitted, registry } = setup([echo, bomb]);
    registry.apply("bomb", { v: 1, enabled: false, config: {}, updatedAt: 0, updatedBy: "t" }, 1);
    const out = await processEvent(msg("/help"), deps);
    expect(out.failures).toEqual([]);
    expect(emitted.map((a) => (a.action === "send" ? a.text : ""))).toEqual(["Commands:\n/echo — e"]);
  });

  it("does not call a command unknown when a plugin of another worker owns it, and lists it in /help", async () => {
    const external = new ExternalCommands(new Set(["echo"]));
    const manifest = { v: 1, name: "notes", version: "1.0.0", description: "Notes (Python)", commands: [{ name: "note", description: "Saves a note.", usage: "<text>" }], configSchema: {} };
    expect(external.apply("notes", new TextEncoder().encode(JSON.stringify(manifest)))).toBe(true);
    const { deps, emitted } = setup([echo], { externalPlugins: () => external.summaries() });
    await processEvent(msg("/note buy milk"), deps);
    expect(emitted).toEqual([]);
    await processEvent(msg("/help"), deps);
    expect(emitted.map((a) => (a.action === "send" ? a.text : ""))).toEqual(["Commands:\n/echo — e\n/note <text> — Saves a note."]);
    // Once its manifest is deleted, the command is unknown again.
    external.apply("notes", undefined);
    emitted.length = 0;
    await processEvent(msg("/note again", "evt-11"), deps);
    expect(emitted.map((a) => (a.action === "send" ? a.text : ""))).toEqual(["Unknown /note"]);
  });

  it("a failed router publish is a failure (so the event is retried)", async () => {
    const { deps } = setup([echo], { emit: () => Promise.reject(new Error("nats down")) });
    const out = await processEvent(msg("/nope"), deps);
    expect(out.failures).toEqual([{ plugin: "router", code: "UNKNOWN", message: "nats down" }]);
  });
});
