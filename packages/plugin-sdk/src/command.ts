/** Parsing of slash commands: `/name arg1 "arg two" ...`. */

/** A parsed command. */
export interface ParsedCommand {
  /** The command name, lower-cased, without the prefix (`"echo"` for `/Echo hi`). */
  readonly name: string;
  /** The text after the command name, trimmed (`"hi there"` for `/echo hi there`). */
  readonly argText: string;
  /** `argText` split on white space; double quotes group words (`"a b"` → `a b`). */
  readonly args: readonly string[];
}

/** What a command name may look like (same rule as protocol's COMMAND_NAME_PATTERN). */
export const COMMAND_NAME_RE = /^[a-z][a-z0-9_-]{0,31}$/;

/**
 * Parses `text` as a command when it starts with `prefix` (default `/`) immediately followed by a
 * valid command name. Returns undefined for ordinary text, for a bare prefix, and for names that
 * are not valid command names (so `/ 1` or `//comment` are ordinary messages).
 */
export function parseCommand(text: string | undefined, prefix = "/"): ParsedCommand | undefined {
  if (text === undefined || !text.startsWith(prefix)) return undefined;
  const rest = text.slice(prefix.length);
  const match = /^([A-Za-z][A-Za-z0-9_-]*)(?:\s+([\s\S]*))?$/.exec(rest);
  if (!match) return undefined;
  const name = match[1]!.toLowerCase();
  if (!COMMAND_NAME_RE.test(name)) return undefined;
  const argText = (match[2] ?? "").trim();
  return { name, argText, args: splitArgs(argText) };
}

/** Splits on white space, keeping double-quoted groups together (quotes removed, `\"` escapes a quote). */
export function splitArgs(argText: string): string[] {
  const args: string[] = [];
  let current = "";
  let inQuotes = false;
  let hasToken = false;
  for (let i = 0; i < argText.length; i++) {
    const ch = argText[i]!;
    if (ch === "\\" && argText[i + 1] === '"') {
      current += '"';
      hasToken = true;
      i++;
    } else if (ch === '"') {
      inQuotes = !inQuotes;
      hasToken = true;
    } else if (!inQuotes && /\s/.test(ch)) {
      if (hasToken) args.push(current);
      current = "";
      hasToken = false;
    } else {
      current += ch;
      hasToken = true;
    }
  }
  if (hasToken) args.push(current);
  return args;
}
