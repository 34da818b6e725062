/**
 * Just enough of a pino logger to see what a component logs at error level (the devnet's
 * `onError` logs "devnet request failed" there): every `error`/`fatal` call's arguments are pushed
 * to `sink`; the other levels are dropped.
 */
export function recordingLogger(sink: unknown[]): unknown {
  const noop = (): void => undefined;
  const logger: Record<string, unknown> = {
    level: "error",
    isLevelEnabled: (l: string) => l === "error" || l === "fatal",
    trace: noop,
    debug: noop,
    info: noop,
    warn: noop,
    error: (...args: unknown[]) => sink.push(args),
    fatal: (...args: unknown[]) => sink.push(args),
  };
  logger.child = () => logger;
  return logger;
}
