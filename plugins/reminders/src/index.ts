/**
 * Reminders delivered at the time the user asks for, surviving restarts.
 *
 * How a stateless worker fires a reminder at a time: each reminder is a key in the plugin's NATS KV
 * bucket (`sb_state_reminders`), named `r.<due time, zero-padded>.<id>` so keys sort by due time.
 * A scheduled task (`deliver`, every second) is run by exactly one worker at a time — plugin-host
 * elects it with a lease in the same bucket — and sends every due reminder, then deletes its key.
 * State lives only in KV, so reminders survive any restart; if the lease holder dies, another worker
 * takes the lease after it expires. A send carries the key `reminder-<id>`, so a reminder sent just
 * before a crash (key not yet deleted) is not sent twice (JetStream duplicate window).
 */
import { createHash } from "node:crypto";
import { definePlugin, Type } from "@session-bot/plugin-sdk";
import { dueAtOfKey, parseReminder, reminderKey } from "./schedule.js";

/** A stored reminder. */
export interface Reminder {
  id: string;
  conversation: string;
  text: string;
  dueAt: number;
  createdAt: number;
}

export default definePlugin({
  name: "reminders",
  version: "1.0.0",
  description: "Reminds you of something at the time you ask for.",
  configSchema: Type.Object(
    {
      maxPerConversation: Type.Integer({ minimum: 1, maximum: 1_000, default: 20 }),
      maxDelayDays: Type.Integer({ minimum: 1, maximum: 3_650, default: 365 }),
      maxTextLength: Type.Integer({ minimum: 1, maximum: 1_500, default: 500 }),
    },
    { additionalProperties: false },
  ),
  commands: {
    remind: {
      description: "Sets a reminder.",
      usage: "in <10m|2h|1d|1h30m> <text> | at <2026-05-01T09:00Z> <text>",
      handler: async (ctx) => {
        const parsed = parseReminder(ctx.args, ctx.command.argText, ctx.now(), ctx.config.maxDelayDays * 86_400_000);
        if (!parsed.ok) return ctx.reply(parsed.error);
        if (parsed.text.length > ctx.config.maxTextLength) return ctx.reply(`That is too long (at most ${ctx.config.maxTextLength} characters).`);
        // The id derives from the event, so a redelivered event rewrites the same key instead of adding a twin.
        const id = createHash("sha256").update(ctx.event.id).digest("hex").slice(0, 16);
        const mine = await listFor(ctx.store, ctx.conversation);
        if (mine.length >= ctx.config.maxPerConversation && !mine.some((r) => r.id === id)) {
          return ctx.reply(`You already have ${mine.length} reminders; /forget one first.`);
        }
        const reminder: Reminder = { id, conversation: ctx.conversation, text: parsed.text, dueAt: parsed.dueAt, createdAt: ctx.now() };
        await ctx.store.set(reminderKey(parsed.dueAt, id), reminder);
        await ctx.reply(`OK, I will remind you at ${new Date(parsed.dueAt).toISOString()} (id ${id.slice(0, 6)}).`);
      },
    },
    reminders: {
      description: "Lists your reminders.",
      handler: async (ctx) => {
        const mine = await listFor(ctx.store, ctx.conversation);
        if (mine.length === 0) return ctx.reply("You have no reminders.");
        await ctx.reply(mine.map((r) => `${r.id.slice(0, 6)}  ${new Date(r.dueAt).toISOString()}  ${r.text}`).join("\n"));
      },
    },
    forget: {
      description: "Deletes one of your reminders.",
      usage: "<id>",
      handler: async (ctx) => {
        const wanted = ctx.args[0];
        if (!wanted) return ctx.reply("Usage: /forget <id> (see /reminders)");
        const match = (await listFor(ctx.store, ctx.conversation)).filter((r) => r.id.startsWith(wanted));
        if (match.length !== 1) return ctx.reply(match.length === 0 ? `No reminder ${wanted}.` : `${wanted} matches several reminders; give more of the id.`);
        await ctx.store.delete(reminderKey(match[0]!.dueAt, match[0]!.id));
        await ctx.reply(`Forgot reminder ${match[0]!.id.slice(0, 6)}.`);
      },
    },
  },
  tasks: {
    deliver: {
      everyMs: 1_000,
      run: async (ctx) => {
        const now = ctx.now();
        for (const key of await ctx.store.keys("r.")) {
          if (ctx.signal.aborted) return;
          if (dueAtOfKey(key) > now) break; // keys sort by due time
          const r = await ctx.store.get<Reminder>(key);
          if (r) await ctx.send(r.conversation, `⏰ Reminder: ${r.text}`, `reminder-${r.id}`);
          await ctx.store.delete(key);
        }
      },
    },
  },
});

async function listFor(store: { keys(prefix?: string): Promise<string[]>; get<T>(key: string): Promise<T | undefined> }, conversation: string): Promise<Reminder[]> {
  const out: Reminder[] = [];
  for (const key of await store.keys("r.")) {
    const r = await store.get<Reminder>(key);
    if (r && r.conversation === conversation) out.push(r);
  }
  return out;
}
