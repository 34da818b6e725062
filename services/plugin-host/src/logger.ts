/** The process logger: JSON to stdout, secrets redacted. */
import { pino, type Logger } from "pino";

/** Paths whose values never reach a log line. */
export const REDACT_PATHS = ["nats.pass", "nats.token", "*.pass", "*.password", "*.token", "*.mnemonic", "password", "token", "mnemonic"];

/** Creates the root logger. */
export function createLogger(level: string, bindings: Record<string, unknown> = {}): Logger {
  return pino({ level, base: { service: "plugin-host", ...bindings }, redact: { paths: REDACT_PATHS, censor: "[redacted]" } });
}
