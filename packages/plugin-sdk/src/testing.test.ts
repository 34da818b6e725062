import { describe, expect, it } from "vitest";
import { Type } from "@sinclair/typebox";
import { deriveActionId } from "@session-bot/protocol";
import { definePlugin } from "./define.js";
import { isPluginError } from "./errors.js";
import { TEST_ADMIN, TEST_OTHER_USER, TEST_USER, createHarness } from "./testing.js";

const demo = definePlugin({
  name: "demo",
  version: "1.0.0",
  description: "Exercises the context.",
  configSchema: Type.Object({ prefix: Type.String({ default: ">" }) }),
  commands: {
    say: { description: "Repeats.", usage: "<text>", handler: (ctx) => ctx.reply(`${ctx.config.prefix} ${ctx.command.argText}`) },
    quote: { description: "Quotes.", handler: (ctx) => ctx.reply({ text: "quoted", quote: true }) },
    long: { description: "Long.", handler: (ctx) => ctx.reply(`${"a".repeat(1_500)}\n${"b".repeat(1_500)}`) },
    secret: { description: "Admins only.", admin: true, handler: (ctx) => ctx.reply("the secret") },
    count: {
      description: "Counts per conversation.",
      handler: async (ctx) => {
        const store = ctx.store.conversation(ctx.conversation);
        const n = ((await store.get<number>("n")) ?? 0) + 1;
        await store.set("n", n);
        await ctx.reply(String(n));
      },
    },
    boom: { description: "Throws.", handler: () => { throw new Error("kaboom"); } },
    slow: {
      description: "Ignores its deadline.",
      handler: async (ctx) => {
        await new Promise((r) => setTimeout(r, 200));
        await ctx.reply("too late");
      },
    },
    polite: {
      description: "Honours its signal.",
      handler: (ctx) =>
        new Promise<void>((_, reject) => ctx.signal.addEventListener("abort", () => reject(new Error("aborted")), { once: true })),
    },
    react: { description: "Reacts.", handler: async (ctx) => { await ctx.react("👍"); await ctx.markRead(); await ctx.typing(); } },
    file: {
      description: "Round-trips an attachment.",
      handler: async (ctx) => {
        const a = ctx.event.attachments[0];
        if (!a) return ctx.reply("send a file");
        const bytes = await ctx.attachments.get(a);
        const up = await ctx.attachments.put(bytes.reverse(), { contentType: "application/octet-stream", fileName: "rev.bin" });
        await ctx.reply({ text: "reversed", attachments: [up] });
      },
    },
    who: { description: "Who am I.", handler: (ctx) => ctx.reply(`${ctx.isAdmin ? "admin" : "user"} ${ctx.host.plugins().map((p) => p.name).join(",")}`) },
  },
  onReaction: (ctx) => ctx.reply(`you reacted ${ctx.event.emoji}`),
  tasks: { announce: { everyMs: 1_000, run: (ctx) => ctx.send(TEST_OTHER_USER, `tick at ${ctx.now()}`, `announce-${ctx.now()}`) } },
});

describe("createHarness", () => {
  it("runs a command with its config and derives action ids from the event", async () => {
    const h = createHarness(demo, { config: { prefix: "»" } });
    const r = await h.message("/say hi there", { id: "evt-1" });
    expect(r.texts).toEqual(["» hi there"]);
    expect(r.replies[0]).toMatchObject({ action: "send", conversation: TEST_USER, plugin: "demo", causationId: "evt-1", id: deriveActionId("evt-1", "demo", 0) });
  });

  it("drops the replies of a redelivered event (same ids), as JetStream would", async () => {
    const h = createHarness(demo);
    await h.message("/say once", { id: "evt-9" });
    const again = await h.message("/say once", { id: "evt-9" });
    expect(again.replies).toEqual([]);
    expect(h.outbox).toHaveLength(1);
  });

  it("ignores ordinary text and other plugins' commands", async () => {
    const h = createHarness(demo);
    expect((await h.message("hello")).handled).toBe(false);
    expect((await h.message("/nope")).actions).toEqual([]);
  });

  it("quotes the message being answered", async () => {
    const h = createHarness(demo);
    const r = await h.message("/quote");
    expect(r.replies[0]!.quote).toEqual({ timestamp: expect.any(Number), author: TEST_USER });
  });

  it("splits a reply longer than one message at a line break", async () => {
    const h = createHarness(demo);
    const r = await h.message("/long");
    expect(r.texts).toEqual(["a".repeat(1_500), "b".repeat(1_500)]);
    expect(new Set(r.replies.map((x) => x.id)).size).toBe(2);
  });

  it("refuses admin commands to non-admins and runs them for admins", async () => {
    const h = createHarness(demo);
    expect((await h.message("/secret")).texts).toEqual(["Sorry, this command is for admins only."]);
    expect((await h.message("/secret", { from: TEST_ADMIN })).texts).toEqual(["the secret"]);
    h.setAdmin(TEST_USER, true);
    expect((await h.message("/who")).texts).toEqual(["admin demo"]);
  });

  it("keeps per-conversation state apart", async () => {
    const h = createHarness(demo);
    await h.message("/count");
    expect((await h.message("/count")).texts).toEqual(["2"]);
    expect((await h.message("/count", { from: TEST_OTHER_USER })).texts).toEqual(["1"]);
  });

  it("wraps a throwing handler in PLUGIN_HANDLER_FAILED with the cause", async () => {
    const h = createHarness(demo);
    const err: unknown = await h.message("/boom").catch((e: unknown) => e);
    expect(isPluginError(err, "PLUGIN_HANDLER_FAILED")).toBe(true);
    expect(((err as Error).cause as Error).message).toBe("kaboom");
  });

  it("aborts a handler past its timeout and refuses its late replies", async () => {
    const h = createHarness(demo, { timeoutMs: 50 });
    const err: unknown = await h.message("/slow").catch((e: unknown) => e);
    expect(isPluginError(err, "PLUGIN_TIMEOUT")).toBe(true);
    await new Promise((r) => setTimeout(r, 250));
    expect(h.outbox).toEqual([]);
    const polite: unknown = await h.message("/polite").catch((e: unknown) => e);
    expect(isPluginError(polite, "PLUGIN_TIMEOUT")).toBe(true);
  });

  it("emits react, read and typing actions for the event's message", async () => {
    const h = createHarness(demo);
    const r = await h.message("/react");
    expect(r.actions.map((a) => a.action)).toEqual(["react", "read", "typing"]);
    expect(r.actions[0]).toMatchObject({ op: "add", emoji: "👍", target: { author: TEST_USER } });
  });

  it("fetches and uploads attachments", async () => {
    const h = createHarness(demo);
    const a = h.addAttachment(new Uint8Array([1, 2, 3]), { fileName: "x.bin" });
    const r = await h.message("/file", { attachments: [a] });
    const id = r.replies[0]!.attachments![0]!;
    expect([...h.uploads.get(id)!.bytes]).toEqual([3, 2, 1]);
  });

  it("routes reactions and runs tasks with idempotent keys", async () => {
    const h = createHarness(demo);
    expect((await h.reaction("❤️")).texts).toEqual(["you reacted ❤️"]);
    const t1 = await h.tick("announce");
    const t2 = await h.tick("announce");
    expect(t1.replies).toHaveLength(1);
    expect(t2.replies).toHaveLength(0);
    h.clock.advance(1_000);
    expect((await h.tick("announce")).replies[0]).toMatchObject({ conversation: TEST_OTHER_USER });
  });

  it("validates reconfiguration and fed events", async () => {
    const h = createHarness(demo);
    expect(() => h.setConfig({ prefix: 5 })).toThrow(/invalid config/);
    await expect(h.event({ kind: "message" } as never)).rejects.toThrow(/InboundEvent/);
  });
});
