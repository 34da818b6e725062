/** `/help [command]`: the commands of every enabled plugin (admin-only ones shown to admins only). */
import { definePlugin, Type, type PluginSummary } from "@session-bot/plugin-sdk";

/** Renders the command list (exported for tests and for hosts that want the same text). */
export function renderHelp(plugins: readonly PluginSummary[], isAdmin: boolean, header: string): string {
  const lines: string[] = [header];
  for (const p of plugins) {
    const cmds = p.commands.filter((c) => isAdmin || !c.admin);
    if (cmds.length === 0) continue;
    lines.push("", `${p.name} — ${p.description}`);
    for (const c of cmds) lines.push(`  /${c.name}${c.usage ? ` ${c.usage}` : ""} — ${c.description}${c.admin ? " (admin)" : ""}`);
  }
  return lines.length === 1 ? "No commands are available right now." : lines.join("\n");
}

/** Renders the help of one command, or undefined when no enabled plugin has it (or it is hidden). */
export function renderCommandHelp(plugins: readonly PluginSummary[], name: string, isAdmin: boolean): string | undefined {
  for (const p of plugins) {
    const c = p.commands.find((x) => x.name === name);
    if (c && (isAdmin || !c.admin)) return `/${c.name}${c.usage ? ` ${c.usage}` : ""}\n${c.description}\n(plugin ${p.name} ${p.version}${c.admin ? ", admins only" : ""})`;
  }
  return undefined;
}

export default definePlugin({
  name: "help",
  version: "1.0.0",
  description: "Lists the commands of every enabled plugin.",
  configSchema: Type.Object(
    { header: Type.String({ default: "Here is what I can do:", maxLength: 200 }) },
    { additionalProperties: false },
  ),
  commands: {
    help: {
      description: "Lists the commands, or explains one.",
      usage: "[command]",
      handler: async (ctx) => {
        const plugins = ctx.host.plugins();
        const wanted = ctx.args[0]?.replace(/^\//, "").toLowerCase();
        if (wanted) {
          await ctx.reply(renderCommandHelp(plugins, wanted, ctx.isAdmin) ?? `There is no command /${wanted}. Send /help for the list.`);
          return;
        }
        await ctx.reply(renderHelp(plugins, ctx.isAdmin, ctx.config.header));
      },
    },
  },
});
