/** The logger a plugin gets: a pino-compatible subset (plugin-host passes a pino child logger). */
export interface LogFn {
  (obj: object, msg?: string): void;
  (msg: string): void;
}

/** A child logger bound to the plugin (and, in a handler, to the event). Data object first, fixed message second, errors under `err`. */
export interface PluginLogger {
  trace: LogFn;
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  child(bindings: Record<string, unknown>): PluginLogger;
}

/** One captured log line (harness). */
export interface LogRecord {
  readonly level: "trace" | "debug" | "info" | "warn" | "error";
  readonly msg: string | undefined;
  readonly data: Record<string, unknown>;
}

/** A logger that keeps its lines in `records` (used by the test harness). */
export function memoryLogger(records: LogRecord[] = [], bindings: Record<string, unknown> = {}): PluginLogger & { records: LogRecord[] } {
  const make = (level: LogRecord["level"]): LogFn =>
    ((a: object | string, b?: string) => {
      if (typeof a === "string") records.push({ level, msg: a, data: { ...bindings } });
      else records.push({ level, msg: b, data: { ...bindings, ...(a as Record<string, unknown>) } });
    });
  return {
    records,
    trace: make("trace"),
    debug: make("debug"),
    info: make("info"),
    warn: make("warn"),
    error: make("error"),
    child: (more) => memoryLogger(records, { ...bindings, ...more }),
  };
}
