/**
 * Admin commands, guarded by the host's list of admin Session IDs (PLUGIN_HOST_ADMINS):
 * `/status` (admins only) shows the worker and the enabled plugins; `/whoami` tells anyone their
 * Session ID and whether they are an admin.
 */
import { definePlugin } from "@session-bot/plugin-sdk";

export default definePlugin({
  name: "admin",
  version: "1.0.0",
  description: "Bot administration commands for the configured admins.",
  commands: {
    status: {
      description: "Worker, bot and enabled plugins.",
      admin: true,
      handler: async (ctx) => {
        const plugins = ctx.host.plugins();
        const rtt = await ctx.host.rtt();
        await ctx.reply(
          [
            `bot ${ctx.host.bot}, worker ${ctx.host.instance}, bus round trip ${rtt.toFixed(1)} ms`,
            `${plugins.length} plugins enabled:`,
            ...plugins.map((p) => `  ${p.name} ${p.version} (${p.commands.length} commands)`),
          ].join("\n"),
        );
      },
    },
    whoami: {
      description: "Your Session ID, and whether you are an admin.",
      handler: (ctx) => ctx.reply(`You are ${ctx.sender}${ctx.isAdmin ? " (admin)" : ""}.`),
    },
  },
});
