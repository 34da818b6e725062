import { describe, expect, it } from "vitest";
import { definePlugin } from "@session-bot/plugin-sdk";
import { TEST_ADMIN, createHarness } from "@session-bot/plugin-sdk/testing";
import help from "./index.js";

const other = definePlugin({
  name: "tools",
  version: "2.0.0",
  description: "Some tools.",
  commands: {
    hash: { description: "Hashes a file.", handler: () => {} },
    nuke: { description: "Deletes everything.", admin: true, handler: () => {} },
  },
});

describe("help plugin", () => {
  it("lists every enabled plugin's commands, hiding admin ones from users", async () => {
    const h = createHarness(help, { otherPlugins: [other] });
    const [text] = (await h.message("/help")).texts;
    expect(text).toContain("/help [command] — Lists the commands, or explains one.");
    expect(text).toContain("tools — Some tools.");
    expect(text).toContain("/hash — Hashes a file.");
    expect(text).not.toContain("nuke");
  });

  it("shows admin commands to admins", async () => {
    const h = createHarness(help, { otherPlugins: [other] });
    expect((await h.message("/help", { from: TEST_ADMIN })).texts[0]).toContain("/nuke — Deletes everything. (admin)");
  });

  it("explains one command and answers an unknown one helpfully", async () => {
    const h = createHarness(help, { otherPlugins: [other] });
    expect((await h.message("/help /hash")).texts[0]).toBe("/hash\nHashes a file.\n(plugin tools 2.0.0)");
    expect((await h.message("/help nuke")).texts[0]).toBe("There is no command /nuke. Send /help for the list.");
  });

  it("uses the configured header", async () => {
    const h = createHarness(help, { config: { header: "Menu:" } });
    expect((await h.message("/help")).texts[0]!.startsWith("Menu:\n")).toBe(true);
  });
});
