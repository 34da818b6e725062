// Test helpers (excluded from the build).
import { isProtocolError, type ProtocolError } from "./errors.js";

/** Runs `fn`, expecting it to throw a ProtocolError, and returns that error. */
export function catchError(fn: () => unknown): ProtocolError {
  try {
    fn();
  } catch (err) {
    if (isProtocolError(err)) return err;
    throw err;
  }
  throw new Error("expected a ProtocolError, nothing was thrown");
}
