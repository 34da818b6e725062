import { describe, expect, it } from "vitest";
import type { PluginSummary } from "@session-bot/plugin-sdk";
import type { InboundEvent } from "@session-bot/protocol";
import { formatHelp, route, unknownCommandReply } from "./router.js";

const plugins: PluginSummary[] = [
  { name: "echo", version: "1.0.0", description: "Echo.", commands: [{ name: "echo", description: "Repeats.", usage: "<text>", admin: false }] },
  { name: "admin", version: "1.0.0", description: "Admin.", commands: [{ name: "status", description: "Status.", admin: true }] },
];
const peer = `05${"1".repeat(64)}`;
const msg = (text: string): InboundEvent => ({ v: 1, id: "e1", bot: "b", conversation: peer, sender: peer, timestamp: 1, receivedAt: 1, kind: "message", text, attachments: [] });

describe("route", () => {
  it("finds the owner of a command", () => {
    expect(route(msg("/echo hi"), plugins, "/")).toMatchObject({ command: { name: "echo", argText: "hi" }, owner: "echo" });
    expect(route(msg("/STATUS"), plugins, "/").owner).toBe("admin");
  });
  it("reports a command nobody owns, and nothing for plain text or other events", () => {
    expect(route(msg("/nope"), plugins, "/")).toMatchObject({ command: { name: "nope" }, owner: undefined });
    expect(route(msg("hello"), plugins, "/")).toEqual({ command: undefined, owner: undefined });
    expect(route({ v: 1, id: "e", bot: "b", conversation: peer, sender: peer, timestamp: 1, receivedAt: 1, kind: "typing", state: "started" }, plugins, "/").command).toBeUndefined();
  });
  it("honours another prefix", () => {
    expect(route(msg("!echo x"), plugins, "!").owner).toBe("echo");
    expect(route(msg("/echo x"), plugins, "!").command).toBeUndefined();
  });
});

describe("formatHelp / unknownCommandReply", () => {
  it("lists commands, admin ones only for admins", () => {
    expect(formatHelp(plugins, "/", false)).toBe("Commands:\n/echo <text> — Repeats.");
    expect(formatHelp(plugins, "/", true)).toContain("/status — Status. (admin)");
    expect(formatHelp([], "/", true)).toBe("No commands are available right now.");
  });
  it("fills the configured template, or stays silent when it is empty", () => {
    expect(unknownCommandReply("No {prefix}{command} here", { name: "x", argText: "", args: [] }, "!")).toBe("No !x here");
    expect(unknownCommandReply("  ", { name: "x", argText: "", args: [] }, "/")).toBeUndefined();
  });
});
