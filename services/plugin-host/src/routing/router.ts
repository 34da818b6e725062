/**
 * The command router: which plugin owns the command of a message, and what to answer when none
 * does. Pure functions over plain data.
 */
import { parseCommand, type ParsedCommand, type PluginSummary } from "@session-bot/plugin-sdk";
import type { InboundEvent } from "@session-bot/protocol";

/** Where a message's command goes. */
export interface Route {
  /** The parsed command, when the event is a message whose text is one. */
  readonly command: ParsedCommand | undefined;
  /** The enabled plugin that owns it. */
  readonly owner: string | undefined;
}

/** Finds the owner of the event's command among `plugins` (enabled ones). */
export function route(event: InboundEvent, plugins: readonly PluginSummary[], prefix: string): Route {
  const command = event.kind === "message" ? parseCommand(event.text, prefix) : undefined;
  if (!command) return { command: undefined, owner: undefined };
  const owner = plugins.find((p) => p.commands.some((c) => c.name === command.name))?.name;
  return { command, owner };
}

/**
 * The help text: every command of every enabled plugin (admin-only ones only for admins),
 * grouped by plugin. Used by the router's built-in `/help` when no plugin owns `help`.
 */
export function formatHelp(plugins: readonly PluginSummary[], prefix: string, isAdmin: boolean): string {
  const lines: string[] = ["Commands:"];
  for (const p of plugins) {
    const cmds = p.commands.filter((c) => isAdmin || !c.admin);
    if (cmds.length === 0) continue;
    for (const c of cmds) {
      lines.push(`${prefix}${c.name}${c.usage ? ` ${c.usage}` : ""} — ${c.description}${c.admin ? " (admin)" : ""}`);
    }
  }
  if (lines.length === 1) return "No commands are available right now.";
  return lines.join("\n");
}

/**
 * What the router answers to a command no enabled plugin owns: the configured text with
 * `{command}` and `{prefix}` replaced, or undefined when the reply is disabled (empty).
 */
export function unknownCommandReply(template: string, command: ParsedCommand, prefix: string): string | undefined {
  if (template.trim() === "") return undefined;
  return template.replaceAll("{prefix}", prefix).replaceAll("{command}", command.name);
}
