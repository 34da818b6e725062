import { describe, expect, it } from "vitest";
import { TEST_OTHER_USER, TEST_USER, createHarness } from "@session-bot/plugin-sdk/testing";
import reminders from "./index.js";
import { parseDuration, parseReminder } from "./schedule.js";

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

describe("reminders plugin", () => {
  it("stores a reminder and delivers it once when due", async () => {
    const h = createHarness(reminders, { now: T0 });
    const set = await h.message("/remind in 10m take the cake out");
    expect(set.texts[0]).toMatch(/^OK, I will remind you at 2026-01-01T12:10:00.000Z/);
    expect((await h.tick("deliver")).replies).toEqual([]);
    h.clock.advance(10 * 60_000);
    const due = await h.tick("deliver");
    expect(due.replies).toHaveLength(1);
    expect(due.replies[0]).toMatchObject({ conversation: TEST_USER, text: "⏰ Reminder: take the cake out" });
    expect((await h.tick("deliver")).replies).toEqual([]);
    expect(await h.store.keys()).toEqual([]);
  });

  it("delivers in due order and leaves future ones", async () => {
    const h = createHarness(reminders, { now: T0 });
    await h.message("/remind in 2h second");
    await h.message("/remind in 1h first", { from: TEST_OTHER_USER });
    await h.message("/remind in 3d later");
    h.clock.advance(2 * 3_600_000);
    const r = await h.tick("deliver");
    expect(r.texts).toEqual(["⏰ Reminder: first", "⏰ Reminder: second"]);
    expect(r.replies.map((x) => x.conversation)).toEqual([TEST_OTHER_USER, TEST_USER]);
    expect((await h.message("/reminders")).texts[0]).toMatch(/later$/);
  });

  it("a redelivered /remind does not create a second reminder", async () => {
    const h = createHarness(reminders, { now: T0 });
    await h.message("/remind in 5m once", { id: "evt-r" });
    await h.message("/remind in 5m once", { id: "evt-r" });
    expect(await h.store.keys()).toHaveLength(1);
  });

  it("lists and forgets only the sender's reminders", async () => {
    const h = createHarness(reminders, { now: T0 });
    await h.message("/remind at 2026-02-01T09:00Z dentist");
    await h.message("/remind in 1d not yours", { from: TEST_OTHER_USER });
    const list = (await h.message("/reminders")).texts[0]!;
    expect(list).toContain("2026-02-01T09:00:00.000Z  dentist");
    expect(list).not.toContain("not yours");
    const id = list.slice(0, 6);
    expect((await h.message(`/forget ${id}`)).texts).toEqual([`Forgot reminder ${id}.`]);
    expect((await h.message("/reminders")).texts).toEqual(["You have no reminders."]);
    expect(await h.store.keys()).toHaveLength(1);
  });

  it("answers bad input with help instead of failing", async () => {
    const h = createHarness(reminders, { now: T0, config: { maxPerConversation: 1 } });
    expect((await h.message("/remind")).texts[0]).toMatch(/^Usage/);
    expect((await h.message("/remind in soon x")).texts[0]).toMatch(/duration "soon"/);
    expect((await h.message("/remind in 10m")).texts[0]).toMatch(/What should I remind/);
    expect((await h.message("/remind at 2020-01-01T00:00Z x")).texts[0]).toBe("That time is in the past.");
    expect((await h.message("/remind in 400d x")).texts[0]).toMatch(/too far ahead/);
    await h.message("/remind in 1m a");
    expect((await h.message("/remind in 2m b")).texts[0]).toMatch(/already have 1 reminders/);
    expect((await h.message("/forget zzz")).texts).toEqual(["No reminder zzz."]);
  });
});

describe("parseDuration / parseReminder", () => {
  it("parses compound durations", () => {
    expect(parseDuration("1h30m")).toBe(5_400_000);
    expect(parseDuration("45s")).toBe(45_000);
    expect(parseDuration("0m")).toBeUndefined();
    expect(parseDuration("1x")).toBeUndefined();
  });
  it("keeps the text after the time, quotes included", () => {
    expect(parseReminder(["in", "1m", "buy", "milk"], 'in 1m buy "milk"', 0, 1e12)).toEqual({ ok: true, dueAt: 60_000, text: 'buy "milk"' });
  });
});
