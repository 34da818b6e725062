import { describe, expect, it } from "vitest";
import { createHarness } from "@session-bot/plugin-sdk/testing";
import echo from "./index.js";

describe("echo plugin", () => {
  it("echoes the command's text, keeping spacing and lines", async () => {
    const h = createHarness(echo);
    expect((await h.message("/echo hello  there\nfriend")).texts).toEqual(["hello  there\nfriend"]);
  });

  it("explains its usage when given nothing", async () => {
    expect((await createHarness(echo).message("/echo")).texts).toEqual(["Usage: /echo <text>"]);
  });

  it("stays quiet on plain messages unless echoAll is on", async () => {
    const h = createHarness(echo);
    expect((await h.message("just chatting")).texts).toEqual([]);
    h.setConfig({ echoAll: true, prefix: "> " });
    expect((await h.message("just chatting")).texts).toEqual(["> just chatting"]);
    expect((await h.message("/other")).texts).toEqual([]);
  });

  it("refuses a bad config", () => {
    expect(() => createHarness(echo, { config: { echoAll: "yes" } })).toThrow(/invalid config for plugin echo/);
  });
});
