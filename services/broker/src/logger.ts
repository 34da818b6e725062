// The broker's pino logger: JSON to stdout, secrets redacted by path wherever they might appear.
import { pino, type Logger, type LoggerOptions, type DestinationStream } from "pino";
import type { BrokerConfig } from "./config.js";

/** Paths pino censors in every log line. */
export const REDACT_PATHS = [
  "mnemonic",
  "*.mnemonic",
  "*.*.mnemonic",
  "password",
  "*.password",
  "*.*.password",
  "token",
  "*.token",
  "*.*.token",
  "keyBase64",
  "*.keyBase64",
  "*.*.keyBase64",
];

/** Creates the root logger (`destination` for tests). */
export function createLogger(cfg: Pick<BrokerConfig, "logLevel" | "bot">, destination?: DestinationStream): Logger {
  const opts: LoggerOptions = {
    level: cfg.logLevel,
    base: { service: "broker", bot: cfg.bot },
    redact: { paths: REDACT_PATHS, censor: "[redacted]" },
  };
  return destination ? pino(opts, destination) : pino(opts);
}
