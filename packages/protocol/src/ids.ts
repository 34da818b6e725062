/** Helpers for ids that must be reproducible (idempotency keys). */
import { createHash } from "node:crypto";
import { ProtocolError } from "./errors.js";
import { ID_PATTERN, PLUGIN_NAME_PATTERN } from "./limits.js";

const ID_RE = new RegExp(ID_PATTERN);
const PLUGIN_RE = new RegExp(PLUGIN_NAME_PATTERN);

/**
 * A deterministic `OutboundAction.id` for the `index`-th action (0, 1, ...) that `plugin` produces
 * while handling the inbound event `causationId`. A redelivered event then yields the same ids, so
 * JetStream's duplicate window (Nats-Msg-Id) and the broker's idempotency table drop the repeats.
 *
 * Algorithm (reproducible in any language): base64url without padding of
 * SHA-256(UTF-8 of `causationId + "\n" + plugin + "\n" + decimal(index)`), i.e. 43 characters.
 * Throws `PROTOCOL_INVALID` for a bad id, plugin name or index.
 */
export function deriveActionId(causationId: string, plugin: string, index: number): string {
  if (typeof causationId !== "string" || !ID_RE.test(causationId)) {
    throw new ProtocolError("PROTOCOL_INVALID", "causationId is not a valid id", { problems: [{ instancePath: "/causationId", message: `must match ${ID_PATTERN}` }] });
  }
  if (typeof plugin !== "string" || !PLUGIN_RE.test(plugin)) {
    throw new ProtocolError("PROTOCOL_INVALID", "plugin is not a valid plugin name", { problems: [{ instancePath: "/plugin", message: `must match ${PLUGIN_NAME_PATTERN}` }] });
  }
  if (!Number.isSafeInteger(index) || index < 0) {
    throw new ProtocolError("PROTOCOL_INVALID", "index must be a non-negative integer", { problems: [{ instancePath: "/index", message: "must be a non-negative integer" }] });
  }
  return createHash("sha256").update(`${causationId}\n${plugin}\n${index}`, "utf8").digest("base64url");
}

/**
 * The `Nats-Msg-Id` of the `attempt`-th retry (1, 2, ...) of a dead-lettered message: `<id>:retry:<attempt>`,
 * so JetStream's duplicate window does not swallow the republish. Throws `PROTOCOL_INVALID` when the
 * result would not be a valid id (longer than MAX_ID_LENGTH).
 */
export function retryMessageId(id: string, attempt: number): string {
  if (!Number.isSafeInteger(attempt) || attempt < 1) {
    throw new ProtocolError("PROTOCOL_INVALID", "attempt must be a positive integer", { problems: [{ instancePath: "/attempt", message: "must be a positive integer" }] });
  }
  const result = `${id}:retry:${attempt}`;
  if (typeof id !== "string" || !ID_RE.test(id) || !ID_RE.test(result)) {
    throw new ProtocolError("PROTOCOL_INVALID", `retry id must match ${ID_PATTERN}`, { problems: [{ instancePath: "/id", message: `must match ${ID_PATTERN} with room for ':retry:<n>'` }] });
  }
  return result;
}
