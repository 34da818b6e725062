import pino, { type Logger } from "pino";

/** Paths that may hold secrets; pino replaces them before a line is written. */
export const REDACT_PATHS = [
  "req.headers.authorization",
  "req.headers.cookie",
  "headers.authorization",
  "authorization",
  "token",
  "*.token",
  "adminTokens",
  "*.adminTokens",
  "password",
  "*.password",
];

/** The gateway's root logger: JSON to stdout, secrets redacted. */
export function createLogger(level: string): Logger {
  return pino({ name: "gateway", level, redact: { paths: REDACT_PATHS, censor: "[redacted]" } });
}
