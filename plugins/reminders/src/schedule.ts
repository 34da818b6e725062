/** Parsing of "when" expressions: `in 10m`, `in 1h30m`, `at 2026-05-01T09:00Z`. Pure functions. */

const UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** Parses a duration such as `90s`, `10m`, `1h30m`, `2d`; undefined when malformed or zero. */
export function parseDuration(text: string): number | undefined {
  if (!/^(\d{1,6}[smhdw])+$/i.test(text)) return undefined;
  let total = 0;
  for (const m of text.toLowerCase().matchAll(/(\d{1,6})([smhdw])/g)) total += Number(m[1]) * UNIT_MS[m[2]!]!;
  return total > 0 ? total : undefined;
}

/** The outcome of parsing `/remind` arguments. */
export type ParsedReminder = { ok: true; dueAt: number; text: string } | { ok: false; error: string };

/**
 * Parses `in <duration> <text>` or `at <ISO date-time with zone> <text>` relative to `now`.
 * `maxDelayMs` bounds how far ahead a reminder may be.
 */
export function parseReminder(args: readonly string[], rest: string, now: number, maxDelayMs: number): ParsedReminder {
  const [mode, when] = args;
  if ((mode !== "in" && mode !== "at") || when === undefined) return { ok: false, error: "Usage: /remind in 10m <text>  or  /remind at 2026-05-01T09:00Z <text>" };
  const text = rest.replace(/^\s*\S+\s+\S+\s*/, "").trim();
  if (text === "") return { ok: false, error: "What should I remind you of? Add some text after the time." };
  let dueAt: number;
  if (mode === "in") {
    const ms = parseDuration(when);
    if (ms === undefined) return { ok: false, error: `I don't understand the duration "${when}". Try 30s, 10m, 2h, 1d or 1h30m.` };
    dueAt = now + ms;
  } else {
    if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(when)) {
      return { ok: false, error: `I don't understand the time "${when}". Use an ISO time with a zone, e.g. 2026-05-01T09:00Z.` };
    }
    dueAt = Date.parse(when);
    if (!Number.isFinite(dueAt)) return { ok: false, error: `"${when}" is not a valid time.` };
    if (dueAt <= now) return { ok: false, error: "That time is in the past." };
  }
  if (dueAt - now > maxDelayMs) return { ok: false, error: `That is too far ahead (at most ${Math.round(maxDelayMs / 86_400_000)} days).` };
  return { ok: true, dueAt, text };
}

/** The store key of a reminder: sorts by due time, so a scan stops at the first one not due. */
export function reminderKey(dueAt: number, id: string): string {
  return `r.${String(dueAt).padStart(15, "0")}.${id}`;
}

/** The due time encoded in a reminder key. */
export function dueAtOfKey(key: string): number {
  return Number(key.split(".")[1]);
}
