/** The logging surface the package uses: a subset of pino's (object first, message second). */
export interface Logger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
  /** Optional child logger factory (pino's `child`). */
  child?(bindings: Record<string, unknown>): Logger;
}

/** A logger that drops everything (the default). */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

/** `logger.child(bindings)` when available, else `logger`. */
export function childLogger(logger: Logger, bindings: Record<string, unknown>): Logger {
  return logger.child === undefined ? logger : logger.child(bindings);
}
