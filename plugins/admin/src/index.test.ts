import { describe, expect, it } from "vitest";
import { TEST_ADMIN, TEST_USER, createHarness } from "@session-bot/plugin-sdk/testing";
import admin from "./index.js";

describe("admin plugin", () => {
  it("/status is refused to a non-admin", async () => {
    const h = createHarness(admin);
    expect((await h.message("/status")).texts).toEqual(["Sorry, this command is for admins only."]);
  });

  it("/status answers an admin with the worker and plugins", async () => {
    const h = createHarness(admin, { admins: [TEST_ADMIN] });
    const [text] = (await h.message("/status", { from: TEST_ADMIN })).texts;
    expect(text).toContain("bot testbot, worker harness");
    expect(text).toContain("admin 1.0.0 (2 commands)");
  });

  it("the admin list decides: a user added to it gets in", async () => {
    const h = createHarness(admin, { admins: [TEST_USER] });
    expect((await h.message("/status")).texts[0]).toMatch(/^bot testbot/);
    expect((await h.message("/status", { from: TEST_ADMIN })).texts[0]).toMatch(/admins only/);
  });

  it("/whoami tells the sender who they are", async () => {
    const h = createHarness(admin);
    expect((await h.message("/whoami")).texts).toEqual([`You are ${TEST_USER}.`]);
    expect((await h.message("/whoami", { from: TEST_ADMIN })).texts).toEqual([`You are ${TEST_ADMIN} (admin).`]);
  });
});
