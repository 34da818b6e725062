import { describe, expect, it } from "vitest";
import { deriveActionId, type InboundEvent, type OutboundAction } from "@session-bot/protocol";
import { definePlugin } from "./define.js";
import { isPluginError } from "./errors.js";
import { memoryLogger } from "./logger.js";
import { invokePlugin, runTask, splitText, type RuntimeDeps } from "./runtime.js";
import { MemoryStoreBackend, createStore } from "./store.js";

const peer = `05${"3".repeat(64)}`;
const base = { v: 1 as const, id: "ev-1", bot: "b", conversation: peer, sender: peer, timestamp: 10, receivedAt: 11 };

function deps(): RuntimeDeps & { out: OutboundAction[] } {
  const out: OutboundAction[] = [];
  return {
    out,
    bot: "b",
    instance: "i",
    emit: (a) => {
      out.push(a);
      return Promise.resolve();
    },
    attachments: { get: () => Promise.reject(new Error("unreachable broker")), put: () => Promise.reject(new Error("unreachable broker")) },
    store: createStore(new MemoryStoreBackend()),
    log: memoryLogger(),
    isAdmin: () => false,
    rtt: () => Promise.resolve(1),
    plugins: () => [],
    now: () => 1_000,
  };
}
const opts = { config: {}, timeoutMs: 200 };

describe("invokePlugin", () => {
  it("routes other event kinds to onEvent and reports whether anything ran", async () => {
    const seen: string[] = [];
    const p = definePlugin({ name: "p", version: "1.0.0", description: "p", onEvent: (ctx) => void seen.push(ctx.event.kind) });
    const typing: InboundEvent = { ...base, kind: "typing", state: "started" };
    expect(await invokePlugin(p, typing, deps(), opts)).toEqual({ handled: true, ownsCommand: false, actions: 0 });
    expect(seen).toEqual(["typing"]);
    const msg: InboundEvent = { ...base, kind: "message", text: "hi", attachments: [] };
    expect((await invokePlugin(p, msg, deps(), opts)).handled).toBe(false);
  });

  it("aborts the handler when the host's signal aborts (shutdown)", async () => {
    const p = definePlugin({
      name: "p",
      version: "1.0.0",
      description: "p",
      onMessage: (ctx) => new Promise<void>((resolve) => ctx.signal.addEventListener("abort", () => resolve())),
    });
    const ac = new AbortController();
    const run = invokePlugin(p, { ...base, kind: "message", text: "x", attachments: [] }, deps(), { ...opts, timeoutMs: 10_000, signal: ac.signal });
    ac.abort(new Error("stopping"));
    const err: unknown = await run.catch((e: unknown) => e);
    expect(isPluginError(err, "PLUGIN_TIMEOUT")).toBe(true);
    expect((err as Error).message).toMatch(/host stopping/);
  });

  it("refuses malformed actions with PLUGIN_INVALID_ACTION", async () => {
    const cases: Array<(ctx: Parameters<NonNullable<Parameters<typeof definePlugin>[0]["onMessage"]>>[0]) => Promise<void>> = [
      (ctx) => ctx.reply(""),
      (ctx) => ctx.reply({ text: "x", attachments: Array.from({ length: 11 }, (_, i) => `a${i}`) }),
      (ctx) => ctx.send("not-a-session-id", "x", "k1"),
      (ctx) => ctx.send(peer, "x", "bad key!"),
      (ctx) => ctx.react(""),
    ];
    for (const fn of cases) {
      const p = definePlugin({ name: "p", version: "1.0.0", description: "p", onMessage: fn });
      const err: unknown = await invokePlugin(p, { ...base, kind: "message", text: "x", attachments: [] }, deps(), opts).catch((e: unknown) => e);
      expect(isPluginError(err, "PLUGIN_INVALID_ACTION"), String(fn)).toBe(true);
    }
  });

  it("wraps attachment transport failures in PLUGIN_ATTACHMENT_FAILED", async () => {
    const p = definePlugin({ name: "p", version: "1.0.0", description: "p", onMessage: async (ctx) => void (await ctx.attachments.get("a1")) });
    const err = await invokePlugin(p, { ...base, kind: "message", text: "x", attachments: [] }, deps(), opts).catch((e: unknown) => e);
    expect(isPluginError(err, "PLUGIN_ATTACHMENT_FAILED")).toBe(true);
    expect((err as Error).message).toContain("unreachable broker");
  });

  it("keyed sends get the same id whatever the event or tick", async () => {
    const p = definePlugin({ name: "p", version: "1.0.0", description: "p", tasks: { t: { everyMs: 1_000, run: (ctx) => ctx.send(peer, "hello", "k-1") } } });
    const d = deps();
    await runTask(p, "t", "1", d, opts);
    await runTask(p, "t", "2", d, opts);
    expect(d.out.map((a) => a.id)).toEqual([deriveActionId("key:k-1", "p", 0), deriveActionId("key:k-1", "p", 0)]);
    expect(d.out[0]).not.toHaveProperty("causationId");
  });
});

describe("splitText", () => {
  it("prefers line breaks, then spaces, then a hard cut", () => {
    expect(splitText("aaaa\nbbbb", 6)).toEqual(["aaaa", "bbbb"]);
    expect(splitText("aaaa bbbb", 6)).toEqual(["aaaa", "bbbb"]);
    expect(splitText("abcdefghij", 4)).toEqual(["abcd", "efgh", "ij"]);
    expect(splitText("short", 10)).toEqual(["short"]);
  });
});
